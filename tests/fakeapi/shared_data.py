"""Where the shared Kubernetes data is, and the one reason a test gives when it is absent.

The data (every release's real OpenAPI documents, resource tables, default lists)
lives outside the repository: $K8S_DATA, else ../shared/k8s-data beside the
checkout.  The tests (tests/conftest.py) and the fake API server (server.py, run
as a script, which is why this lives here) both find it through location(); a test
that needs it and runs without it skips with missing_reason().  Standard library only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT.parent / "shared" / "k8s-data"
DEFAULT_SHOWN = "../shared/k8s-data"  # as the README names it: relative to the checkout

# The start of the reason; the fake API server writes it on stderr for each OpenAPI
# request it cannot answer for lack of the data (tests/fakeapi/fixtures.py counts them).
NEEDS = "needs the shared Kubernetes data"


def location() -> Path:
    """$K8S_DATA (relative to the current directory), else ../shared/k8s-data beside the checkout."""
    configured = os.environ.get("K8S_DATA")
    return Path(configured).absolute() if configured else DEFAULT


def manifests_location() -> Path:
    """The shared real manifests (rendered charts, examples): beside the Kubernetes data."""
    return location().parent / "manifests"


def present(path: Path) -> bool:
    return (Path(path) / "default-enabled.json").is_file()


def missing_reason(shown: Optional[str] = None) -> str:
    """The skip reason: one text for every test that needs the data."""
    shown = shown or os.environ.get("K8S_DATA") or DEFAULT_SHOWN
    return f"{NEEDS}: {shown} is absent (set K8S_DATA)"
