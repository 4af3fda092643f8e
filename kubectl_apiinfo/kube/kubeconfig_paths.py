"""Which kubeconfig files kubectl would read: on its own, because a query answered
from the cache needs only the file names (to see they are unchanged), not their content."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import List, Mapping, Optional

from kubectl_apiinfo.errors import UserError, flag


def kubeconfig_files(kubeconfig: Optional[str] = None, environ: Optional[Mapping[str, str]] = None) -> List[str]:
    """The files kubectl would read, in order: --kubeconfig (which must exist), else KUBECONFIG, else ~/.kube/config."""
    environ = os.environ if environ is None else environ
    if kubeconfig:
        if not os.path.exists(kubeconfig):
            raise UserError(f"the kubeconfig file {kubeconfig} does not exist; check the {flag('kubeconfig')} path")
        return [kubeconfig]
    if environ.get("KUBECONFIG"):
        candidates = environ["KUBECONFIG"].split(os.pathsep)
    else:
        home = environ.get("HOME") or environ.get("USERPROFILE")
        candidates = [os.path.join(home, ".kube", "config")] if home else []
    seen, files = set(), []
    for path in candidates:
        key = os.path.abspath(path) if path else ""
        if path and key not in seen and os.path.exists(path):
            seen.add(key)
            files.append(path)
    return files
