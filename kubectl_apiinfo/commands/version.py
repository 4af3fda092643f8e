"""kubectl apiinfo version: the plugin's own version."""

from kubectl_apiinfo import __version__


def run(options, factory) -> None:
    factory.out(f"kubectl-apiinfo {__version__}\n")
