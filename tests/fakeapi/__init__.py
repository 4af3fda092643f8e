"""A small Kubernetes API server for the tests: discovery only, over HTTPS, with faults on demand."""
