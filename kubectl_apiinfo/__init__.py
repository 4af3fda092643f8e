"""kubectl-apiinfo: which API group/version serves a Kubernetes resource."""

__version__ = "0.1.0"
HOMEPAGE = "https://github.com/kubectl-apiinfo/kubectl-apiinfo"  # SARIF's informationUri
