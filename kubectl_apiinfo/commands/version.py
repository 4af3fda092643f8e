"""kubectl apiinfo version: the plugin's own version."""

from kubectl_apiinfo import __version__
from kubectl_apiinfo.console import out


def run(inv) -> None:
    out(f"kubectl-apiinfo {__version__}\n")
