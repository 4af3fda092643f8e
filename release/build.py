#!/usr/bin/env python3
"""Build the release archive for krew and air-gapped machines.

    python release/build.py [--out-dir DIR] [--manifest FILE | --no-manifest]
                            [--check] [--wheel-cache DIR] [--offline]

writes dist/kubectl-apiinfo-v<version>.tar.gz holding

  kubectl-apiinfo   one executable Python zipapp (#!/usr/bin/env python3): the
                    kubectl_apiinfo package, the compiled catalog as
                    kubectl_apiinfo/catalog_data/ (where the wheel puts it) and
                    the pure-Python run-time libraries pinned in
                    release/requirements*.txt, so it runs with nothing but python3
  LICENSE

and writes the archive's sha256, the version and the download URI into every
platform of krew-manifest.yaml.

The same source gives a byte-identical archive: entries are sorted and carry a
fixed time, mode and owner, no bytecode goes in, and the gzip header has no
time and no name.  (Compression is zlib's, so "same" assumes the same zlib.)

The wheels are downloaded once into .tools/release-wheels/ with pip; every
file, cached or not, is checked against the sha256 pinned for it before use.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import re
import stat
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
RELEASE = ROOT / "release"
MAIN_SOURCE = RELEASE / "zipapp_main.py"
DEFAULT_MANIFEST = ROOT / "krew-manifest.yaml"
DEFAULT_OUT = ROOT / "dist"
DEFAULT_CACHE = ROOT / ".tools" / "release-wheels"

EXECUTABLE = "kubectl-apiinfo"
SHEBANG = b"#!/usr/bin/env python3\n"
URI = "https://github.com/kubectl-apiinfo/kubectl-apiinfo/releases/download/{tag}/kubectl-apiinfo-{tag}.tar.gz"

# 1980-01-01T00:00:00Z: the earliest time a zip entry can hold; tar entries get it too.
FIXED_TIME = 315532800
ZIP_TIME = time.gmtime(FIXED_TIME)[:6]

# Each lock file and the pip options that make it select exactly the pinned files.
PURE = ["--platform", "any", "--implementation", "py", "--abi", "none", "--python-version", "3.9"]
PYYAML_WHEEL = ["--platform", "manylinux2014_x86_64", "--implementation", "cp", "--abi", "cp311", "--python-version", "3.11"]
LOCKS = (
    (RELEASE / "requirements.txt", PURE),
    (RELEASE / "requirements-pyyaml.txt", PYYAML_WHEEL),
)

# Parts of a wheel left out of the zipapp, by distribution: PyYAML's C loader
# (and the shim package that only re-exports it).  Any other compiled file stops the build.
LEFT_OUT = {"pyyaml": re.compile(r"^(_yaml/|yaml/_yaml\.[^/]*\.(so|pyd)$)")}
COMPILED = re.compile(r"\.(so|pyd|dylib|dll)$|\.so\.")
LICENSE_FILE = re.compile(r"^(licenses?/.*|(LICEN[CS]E|COPYING|NOTICE|AUTHORS)[^/]*)$", re.IGNORECASE)


class BuildError(Exception):
    """The build cannot go on; the message says why."""


# --- the project ------------------------------------------------------------


@dataclass
class Project:
    version: str
    packages: list[str]  # source directories copied into the zipapp as they are
    force_include: dict[str, str]  # source path -> path in the wheel


def read_project(root: Path = ROOT) -> Project:
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            raise BuildError("reading pyproject.toml needs Python 3.11+ (tomllib) or the tomli package") from None
    with open(root / "pyproject.toml", "rb") as f:
        data = tomllib.load(f)
    version = data["project"]["version"]
    wheel = data.get("tool", {}).get("hatch", {}).get("build", {}).get("targets", {}).get("wheel", {})
    packages = list(wheel.get("packages", []))
    if not packages:
        raise BuildError("pyproject.toml names no [tool.hatch.build.targets.wheel] packages")
    init = (root / packages[0] / "__init__.py").read_text(encoding="utf-8")
    m = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", init, re.MULTILINE)
    if not m or m.group(1) != version:
        found = m.group(1) if m else "none"
        raise BuildError(f"pyproject.toml says version {version} but {packages[0]}/__init__.py says {found}")
    return Project(version=version, packages=packages, force_include=dict(wheel.get("force-include", {})))


def _skipped(name: str) -> bool:
    """Never shipped: bytecode, caches, hidden files, editor leftovers."""
    return name == "__pycache__" or name.startswith(".") or name.endswith((".pyc", ".pyo", "~", ".swp"))


def tree_files(base: Path, prefix: str) -> dict[str, bytes]:
    """Every shippable file under base, keyed by its path in the archive (prefix/relative)."""
    if base.is_file():
        return {prefix: base.read_bytes()}
    if not base.is_dir():
        raise BuildError(f"{base} does not exist")
    out: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if not _skipped(d))
        for name in sorted(filenames):
            if _skipped(name):
                continue
            path = Path(dirpath) / name
            rel = path.relative_to(base).as_posix()
            out[f"{prefix}/{rel}"] = path.read_bytes()
    return out


def project_members(project: Project, root: Path = ROOT) -> dict[str, bytes]:
    members: dict[str, bytes] = {}
    for package in project.packages:
        members.update(tree_files(root / package, package))
    for source, target in sorted(project.force_include.items()):
        included = tree_files(root / source, target.strip("/"))
        clash = set(included) & set(members)
        if clash:
            raise BuildError(f"{source} would overwrite {min(clash)} in the zipapp")
        members.update(included)
    return members


# --- the pinned wheels ----------------------------------------------------------


@dataclass(frozen=True)
class Pin:
    name: str  # normalized project name
    version: str
    hashes: tuple[str, ...]  # allowed sha256 hex digests
    lock: Path


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path) -> list[Pin]:
    """name==version lines, each with one or more --hash=sha256:... options."""
    text = path.read_text(encoding="utf-8")
    logical: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        if current.strip():
            logical.append(current.strip())
        current = ""
    if current.strip():
        logical.append(current.strip())
    pins = []
    for entry in logical:
        tokens = entry.split()
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", tokens[0])
        if not m:
            raise BuildError(f"{path.name}: {tokens[0]!r} is not pinned as name==version")
        hashes = []
        for token in tokens[1:]:
            h = re.fullmatch(r"--hash=sha256:([0-9a-f]{64})", token)
            if not h:
                raise BuildError(f"{path.name}: unexpected {token!r} for {tokens[0]} (only --hash=sha256:... may follow)")
            hashes.append(h.group(1))
        if not hashes:
            raise BuildError(f"{path.name}: {tokens[0]} has no --hash=sha256:...")
        pins.append(Pin(normalize(m.group(1)), m.group(2), tuple(hashes), path))
    if not pins:
        raise BuildError(f"{path.name} pins nothing")
    return pins


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def wheel_name_version(filename: str) -> Optional[tuple[str, str]]:
    parts = filename[: -len(".whl")].split("-") if filename.endswith(".whl") else []
    if len(parts) not in (5, 6):
        return None
    return normalize(parts[0]), parts[1]


def find_cached(pins: Iterable[Pin], cache: Path) -> dict[Pin, Path]:
    """The cached wheel of each pin whose sha256 is one of its pinned hashes."""
    by_hash: dict[str, Path] = {}
    if cache.is_dir():
        for path in sorted(cache.glob("*.whl")):
            by_hash.setdefault(sha256_file(path), path)
    found = {}
    for pin in pins:
        for h in pin.hashes:
            path = by_hash.get(h)
            if path is not None and wheel_name_version(path.name) == (pin.name, pin.version):
                found[pin] = path
                break
    return found


def download(lock: Path, options: list[str], cache: Path) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes", "--only-binary=:all:",
        *options, "--dest", str(cache), "--requirement", str(lock), "--disable-pip-version-check", "--no-input",
    ]  # fmt: skip
    print(f"downloading the wheels pinned in {lock.relative_to(ROOT) if lock.is_relative_to(ROOT) else lock} ...", file=sys.stderr)
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise BuildError(f"pip could not download the pinned wheels of {lock.name}:\n{tail}")


def ensure_wheels(cache: Path, offline: bool) -> dict[Pin, Path]:
    wheels: dict[Pin, Path] = {}
    seen: dict[str, Path] = {}
    for lock, options in LOCKS:
        pins = read_lock(lock)
        for pin in pins:
            if pin.name in seen:
                raise BuildError(f"{pin.name} is pinned in both {seen[pin.name].name} and {lock.name}")
            seen[pin.name] = lock
        found = find_cached(pins, cache)
        missing = [p for p in pins if p not in found]
        if missing and not offline:
            download(lock, options, cache)
            found = find_cached(pins, cache)
            missing = [p for p in pins if p not in found]
        if missing:
            names = ", ".join(f"{p.name}=={p.version}" for p in missing)
            how = "--offline was given" if offline else "pip did not fetch a file with the pinned sha256"
            raise BuildError(f"no wheel with a pinned sha256 in {cache} for {names} ({how})")
        wheels.update(found)
    return wheels


def wheel_members(pin: Pin, wheel: Path) -> dict[str, bytes]:
    """What the zipapp takes from one wheel: its importable files, and its METADATA and licenses."""
    left_out = LEFT_OUT.get(pin.name)
    out: dict[str, bytes] = {}
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            name = info.filename
            if info.is_dir():
                continue
            top, _, rest = name.partition("/")
            if top.endswith(".dist-info"):
                if rest == "METADATA" or LICENSE_FILE.match(rest):
                    out[name] = zf.read(info)
                continue
            if top.endswith(".data"):
                raise BuildError(f"{wheel.name} has a {top}/ directory, which a zipapp cannot install")
            if left_out is not None and left_out.match(name):
                continue
            if COMPILED.search(name):
                raise BuildError(f"{wheel.name} carries compiled code ({name}); only pure Python can run from a zip")
            if _skipped(name.rsplit("/", 1)[-1]) or "/__pycache__/" in f"/{name}":
                continue
            out[name] = zf.read(info)
    return out


# --- the archives -------------------------------------------------------------------


def zipapp_bytes(members: dict[str, bytes]) -> bytes:
    """A zip of members (sorted, fixed time and mode) behind the python3 shebang."""
    buf = io.BytesIO()
    buf.write(SHEBANG)  # written first, so the zip's offsets count it (as zipapp does)
    with zipfile.ZipFile(buf, "w") as zf:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so external_attr is read as a mode
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            zf.writestr(info, members[name], compresslevel=9)
    return buf.getvalue()


def gzip_bytes(data: bytes) -> bytes:
    """gzip with a fixed header (no name, time 0, OS unknown), the same from every Python."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = deflate.compress(data) + deflate.flush()
    header = b"\x1f\x8b\x08\x00" + struct.pack("<I", 0) + b"\x02\xff"
    return header + body + struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF)


def tar_gz_bytes(files: dict[str, tuple[bytes, int]]) -> bytes:
    """A ustar archive of regular files (name -> (data, mode)), sorted, owned by root, at the fixed time."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in sorted(files):
            data, mode = files[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = FIXED_TIME
            info.mode = mode
            info.type = tarfile.REGTYPE
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(data))
    return gzip_bytes(buf.getvalue())


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# --- the krew manifest ----------------------------------------------------------------

_VERSION_LINE = re.compile(r"^(?P<lead>[ \t]+version:[ \t]*)(?P<value>\S.*?)[ \t]*$", re.MULTILINE)
_URI_LINE = re.compile(r"^(?P<lead>[ \t]+(?:-[ \t]+)?uri:[ \t]*)(?P<value>\S.*?)[ \t]*$", re.MULTILINE)
_SHA_LINE = re.compile(r"^(?P<lead>[ \t]+(?:-[ \t]+)?sha256:[ \t]*)(?P<value>\S.*?)[ \t]*$", re.MULTILINE)


def updated_manifest(text: str, tag: str, uri: str, sha256: str) -> str:
    """The manifest text with spec.version, every platform's uri and sha256 set; all else kept as written."""
    versions = _VERSION_LINE.findall(text)
    uris = _URI_LINE.findall(text)
    shas = _SHA_LINE.findall(text)
    if len(versions) != 1:
        raise BuildError(f"the manifest should have one 'version:' line (spec.version), found {len(versions)}")
    if not uris or len(uris) != len(shas):
        raise BuildError(f"the manifest should have a 'uri:' and a 'sha256:' line per platform, found {len(uris)} and {len(shas)}")
    text = _VERSION_LINE.sub(lambda m: m.group("lead") + tag, text)
    text = _URI_LINE.sub(lambda m: m.group("lead") + uri, text)
    text = _SHA_LINE.sub(lambda m: m.group("lead") + sha256, text)
    try:
        import yaml
    except ImportError:  # the line-wise edit above stands on its own; this is a second look
        return text
    doc = yaml.safe_load(text)
    platforms = doc["spec"]["platforms"]
    if doc["spec"]["version"] != tag or any(p.get("uri") != uri or p.get("sha256") != sha256 for p in platforms):
        raise BuildError("the manifest's version/uri/sha256 lines are not where spec.version and spec.platforms[] are")
    return text


# --- main ---------------------------------------------------------------------------------


BUILD_ID_MEMBER = "_kubectl_apiinfo_build_id"


def build(out_dir: Path, cache: Path, offline: bool) -> tuple[Path, str, dict[str, bytes], str]:
    project = read_project()
    wheels = ensure_wheels(cache, offline)
    members = project_members(project)
    origin = {name: "the project" for name in members}
    for pin in sorted(wheels, key=lambda p: p.name):
        for name, data in wheel_members(pin, wheels[pin]).items():
            if name in members:
                raise BuildError(f"{pin.name} and {origin[name]} both ship {name}")
            members[name] = data
            origin[name] = pin.name
    if "__main__.py" in members:
        raise BuildError(f"{origin['__main__.py']} ships a top-level __main__.py")
    members["__main__.py"] = MAIN_SOURCE.read_bytes()
    # Names the unpacked copy the zipapp runs from (see zipapp_main.py): one per distinct build.
    digest = hashlib.sha256()
    for name in sorted(members):
        digest.update(name.encode() + b"\0" + hashlib.sha256(members[name]).digest())
    members[BUILD_ID_MEMBER] = digest.hexdigest().encode() + b"\n"

    zipapp = zipapp_bytes(members)
    license_path = ROOT / "LICENSE"
    if not license_path.is_file():
        raise BuildError("LICENSE is missing at the top of the project")
    tag = f"v{project.version}"
    archive = tar_gz_bytes({EXECUTABLE: (zipapp, 0o755), "LICENSE": (license_path.read_bytes(), 0o644)})
    path = out_dir / f"kubectl-apiinfo-{tag}.tar.gz"
    write_atomically(path, archive)
    return path, hashlib.sha256(archive).hexdigest(), {EXECUTABLE: zipapp}, tag


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python release/build.py",
        description="Build dist/kubectl-apiinfo-v<version>.tar.gz (a python3 zipapp and LICENSE) and "
        "write its sha256 into krew-manifest.yaml.",
    )
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT, help="where the archive goes (default: dist/)")
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST, help="the krew manifest to update (default: krew-manifest.yaml)")
    parser.add_argument("--no-manifest", action="store_true", help="leave every manifest alone")
    parser.add_argument("--check", action="store_true", help="change no manifest; exit 1 if it does not match this build")
    parser.add_argument("--wheel-cache", type=Path, default=DEFAULT_CACHE, help="downloaded wheels (default: .tools/release-wheels/)")
    parser.add_argument("--offline", action="store_true", help="never run pip: every pinned wheel must be in the cache")
    args = parser.parse_args(argv)
    if args.check and args.no_manifest:
        parser.error("--check and --no-manifest exclude each other")

    try:
        path, sha256, parts, tag = build(args.out_dir, args.wheel_cache, args.offline)
        print(f"built {path} ({path.stat().st_size} bytes; {EXECUTABLE}: {len(parts[EXECUTABLE])} bytes)")
        print(f"sha256 {sha256}")
        if args.no_manifest:
            return 0
        uri = URI.format(tag=tag)
        try:
            current = args.manifest.read_text(encoding="utf-8")
        except OSError as e:
            raise BuildError(f"cannot read the manifest: {e}") from None
        wanted = updated_manifest(current, tag, uri, sha256)
        if args.check:
            if wanted != current:
                print(f"error: {args.manifest} does not match this build (run: python release/build.py)", file=sys.stderr)
                return 1
            print(f"{args.manifest} matches this build")
        elif wanted != current:
            write_atomically(args.manifest, wanted.encode("utf-8"))
            print(f"updated {args.manifest} ({tag}, sha256 {sha256[:12]}...)")
        else:
            print(f"{args.manifest} already matches this build")
        return 0
    except BuildError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
