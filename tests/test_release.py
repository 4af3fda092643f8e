"""The release: the krew manifest, the reproducible archive, and a krew-style install run through a real kubectl.

`python release/build.py` makes dist/kubectl-apiinfo-v<version>.tar.gz (a python3
zipapp and LICENSE) and writes its sha256 into krew-manifest.yaml.  These tests
build it into temporary directories (the pinned wheels are cached in
.tools/release-wheels/), check the manifest against krew's own validation rules
(re-implemented below from kubernetes-sigs/krew: internal/index/validation,
cmd/validate-krew-manifest, internal/installation and internal/download), install
the archive the way krew does and run it through kubectl with nothing but a bare
python3 on the PATH.
"""

from __future__ import annotations

import copy
import email
import email.message
import fnmatch
import hashlib
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from conftest import ROOT

BUILD = ROOT / "release" / "build.py"
MANIFEST = ROOT / "krew-manifest.yaml"
LOCKS = (ROOT / "release" / "requirements.txt", ROOT / "release" / "requirements-pyyaml.txt")
ZIPAPP_MAIN = ROOT / "release" / "zipapp_main.py"
WHEEL_CACHE = ROOT / ".tools" / "release-wheels"
PLUGIN = "apiinfo"
FIXED_TIME = 315532800  # 1980-01-01T00:00:00Z
URI = "https://github.com/kubectl-apiinfo/kubectl-apiinfo/releases/download/v{v}/kubectl-apiinfo-v{v}.tar.gz"
# What the zipapp must carry besides kubectl_apiinfo, by top-level import name; never rich.
BUNDLED = {"annotated_doc", "certifi", "charset_normalizer", "click", "diskcache", "idna", "requests", "ruamel",
           "shellingham", "tabulate", "typer", "urllib3", "yaml"}  # fmt: skip


def _pyproject() -> dict:
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        tomllib = pytest.importorskip("tomli")
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


PYPROJECT = _pyproject()
VERSION = PYPROJECT["project"]["version"]
ARCHIVE_NAME = f"kubectl-apiinfo-v{VERSION}.tar.gz"


# =====================================================================================
# krew's validation rules
# =====================================================================================

API_VERSION = "krew.googlecontainertools.github.com/v1alpha2"  # pkg/constants CurrentAPIVersion
SAFE_PLUGIN_NAME = re.compile(r"^[\w-]+$", re.ASCII)  # Go's \w is ASCII
WINDOWS_FORBIDDEN = {"CON", "PRN", "AUX", "NUL"} | {f"COM{i}" for i in range(1, 10)} | {f"LPT{i}" for i in range(1, 10)}
SHA256_PATTERN = re.compile(r"^[a-f0-9]{64}$")
# cmd/validate-krew-manifest allPlatforms(): the <os,arch> pairs krew is supported on.
SUPPORTED_PLATFORMS = [
    ("windows", "386"), ("windows", "amd64"), ("windows", "arm64"),
    ("linux", "386"), ("linux", "amd64"), ("linux", "arm"), ("linux", "arm64"), ("linux", "ppc64le"),
    ("darwin", "386"), ("darwin", "amd64"), ("darwin", "arm64"),
]  # fmt: skip
LICENSE_NAMES = {"license", "license.txt", "license.md", "licenses", "licenses.txt", "licenses.md", "copying", "copying.txt"}


def parse_semver(text: str) -> tuple:
    """krew's semver.Parse: a leading 'v', then k8s.io/apimachinery's ParseSemantic."""
    if not text.startswith("v"):
        raise ValueError(f"version string {text!r} not starting with 'v'")
    m = re.match(r"^\s*v?([0-9]+(?:\.[0-9]+)*)(.*)$", text, re.DOTALL)
    if not m:
        raise ValueError(f"could not parse {text!r} as version")
    numbers, extra = m.group(1).split("."), m.group(2)
    if len(numbers) != 3:
        raise ValueError(f"illegal version string {text!r}")
    for comp in numbers:
        if comp.startswith("0") and comp != "0":
            raise ValueError(f"illegal zero-prefixed version component {comp!r} in {text!r}")
    pre = ""
    if extra:
        em = re.match(r"^(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?\s*$", extra)
        if not em:
            raise ValueError(f"could not parse pre-release/metadata ({extra}) in version {text!r}")
        pre = em.group(1) or ""
        for comp in pre.split("."):
            if comp.isdigit() and comp.startswith("0") and comp != "0":
                raise ValueError(f"illegal zero-prefixed version component {comp!r} in {text!r}")
    return tuple(int(n) for n in numbers), pre


_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def selector_matcher(selector: dict) -> Callable[[dict], bool]:
    """metav1.LabelSelectorAsSelector, then Selector.Matches; ValueError where apimachinery refuses it."""
    requirements = []
    for key, value in sorted((selector.get("matchLabels") or {}).items()):
        if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
            raise ValueError(f"invalid label value {value!r} for {key}")
        requirements.append((key, "In", [value]))
    for expr in selector.get("matchExpressions") or []:
        op, values = expr.get("operator"), list(expr.get("values") or [])
        if op in ("In", "NotIn") and not values:
            raise ValueError(f"{op} needs one or more values")
        if op in ("Exists", "DoesNotExist") and values:
            raise ValueError(f"{op} takes no values")
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            raise ValueError(f"{op!r} is not a valid pod selector operator")
        requirements.append((expr.get("key"), op, values))

    def matches(labels: dict) -> bool:
        for key, op, values in requirements:
            present = key in labels
            if op == "In" and not (present and labels[key] in values):
                return False
            if op == "NotIn" and present and labels[key] in values:
                return False
            if op == "Exists" and not present:
                return False
            if op == "DoesNotExist" and present:
                return False
        return True

    return matches


def _type_errors(doc) -> list[str]:
    """What Go's JSON decoding into index.Plugin would refuse: a field of the wrong type."""
    errors: list[str] = []

    def want(value, kind, path):
        if value is not None and not isinstance(value, kind):
            errors.append(f"{path}: want {getattr(kind, '__name__', kind)}, got {type(value).__name__}")
            return False
        return value is not None

    if not want(doc, dict, "manifest"):
        return errors or ["manifest: empty"]
    for key in ("apiVersion", "kind"):
        want(doc.get(key), str, key)
    if want(doc.get("metadata"), dict, "metadata"):
        want(doc["metadata"].get("name"), str, "metadata.name")
    spec = doc.get("spec")
    if not want(spec, dict, "spec"):
        return errors
    for key in ("version", "shortDescription", "description", "caveats", "homepage"):
        want(spec.get(key), str, f"spec.{key}")
    if not want(spec.get("platforms"), list, "spec.platforms"):
        return errors
    for i, p in enumerate(spec["platforms"]):
        where = f"spec.platforms[{i}]"
        if not want(p, dict, where):
            continue
        for key in ("uri", "sha256", "bin", "license"):
            want(p.get(key), str, f"{where}.{key}")
        if want(p.get("files"), list, f"{where}.files"):
            for j, op in enumerate(p["files"]):
                if want(op, dict, f"{where}.files[{j}]"):
                    want(op.get("from"), str, f"{where}.files[{j}].from")
                    want(op.get("to"), str, f"{where}.files[{j}].to")
        if want(p.get("selector"), dict, f"{where}.selector"):
            sel = p["selector"]
            if want(sel.get("matchLabels"), dict, f"{where}.selector.matchLabels"):
                for k, v in sel["matchLabels"].items():
                    want(v, str, f"{where}.selector.matchLabels.{k}")
            if want(sel.get("matchExpressions"), list, f"{where}.selector.matchExpressions"):
                for j, e in enumerate(sel["matchExpressions"]):
                    if want(e, dict, f"{where}.selector.matchExpressions[{j}]"):
                        want(e.get("key"), str, f"{where}.selector.matchExpressions[{j}].key")
                        want(e.get("operator"), str, f"{where}.selector.matchExpressions[{j}].operator")
                        want(e.get("values"), list, f"{where}.selector.matchExpressions[{j}].values")
    return errors


def _platform_errors(p: dict) -> list[str]:
    """internal/index/validation validatePlatform (with validateFiles and validateSelector)."""
    if not p.get("uri"):
        return ["`uri` has to be set"]
    if not p.get("sha256"):
        return ["`sha256` sum has to be set"]
    if not SHA256_PATTERN.match(p["sha256"]):
        return [f"`sha256` value {p['sha256']} is not valid"]
    if not p.get("bin"):
        return ["`bin` has to be set"]
    files = p.get("files")
    if files is not None:
        if len(files) == 0:
            return ["`files` has to be unspecified or non-empty"]
        for op in files:
            if not op.get("from"):
                return ["`from` field has to be set"]
            if not op.get("to"):
                return ["`to` field has to be set"]
    sel = p.get("selector")
    if sel is None:
        return ["nil selector is not supported"]
    labels, exprs = sel.get("matchLabels"), sel.get("matchExpressions")
    if labels is None and not exprs:
        return ["empty selector is not supported"]
    for key in list(labels or {}) + [e.get("key") for e in exprs or []]:
        if key not in ("os", "arch"):
            return [f"selector key {key!r} not supported"]
    if labels is not None and len(labels) == 0:
        return ["`matchLabels` specified but empty"]
    if exprs is not None and len(exprs) == 0:
        return ["`matchExpressions` specified but empty"]
    return []


def _long_lines(text: str, limit: int) -> bool:
    """validateLineLength: a line may be longer only if it is one word."""
    return any(len(line) > limit and " " in line.strip() for line in (text or "").split("\n"))


def validate_manifest(doc, name: str) -> tuple[list[str], list[str]]:
    """krew's checks of a plugin manifest (as plugins/NAME.yaml in an index): (errors, warnings).

    Errors: indexscanner decoding, validation.ValidatePlugin, and validate-krew-manifest's
    platform checks.  Warnings: validate-krew-manifest's line lengths.
    """
    errors = _type_errors(doc)
    if errors:
        return errors, []
    spec = doc.get("spec") or {}
    if doc.get("apiVersion") != API_VERSION:
        errors.append(f"plugin manifest has apiVersion={doc.get('apiVersion')!r}, not supported")
    if doc.get("kind") != "Plugin":
        errors.append(f"plugin manifest has kind={doc.get('kind')!r}, but only 'Plugin' is supported")
    if not SAFE_PLUGIN_NAME.match(name) or name.upper() in WINDOWS_FORBIDDEN:
        errors.append(f"the plugin name {name!r} is not allowed")
    if (doc.get("metadata") or {}).get("name") != name:
        errors.append(f"plugin should be named {name!r}, not {(doc.get('metadata') or {}).get('name')!r}")
    if not spec.get("shortDescription"):
        errors.append("should have a short description")
    elif re.search(r"[\r\n]", spec["shortDescription"]):
        errors.append("should not have line breaks in short description")
    platforms = spec.get("platforms") or []
    if not platforms:
        errors.append("should have a platform specified")
    if not spec.get("version"):
        errors.append("should have a version specified")
    else:
        try:
            parse_semver(spec["version"])
        except ValueError as e:
            errors.append(f"failed to parse plugin version: {e}")
    for i, p in enumerate(platforms):
        errors += [f"spec.platforms[{i}]: {e}" for e in _platform_errors(p)]
    if errors:
        return errors, []

    matchers = []
    for i, p in enumerate(platforms):
        try:
            matchers.append(selector_matcher(p["selector"]))
        except ValueError as e:
            errors.append(f"spec.platforms[{i}]: invalid selector: {e}")
            matchers.append(lambda labels: False)
    for i, m in enumerate(matchers):
        if not any(m({"os": o, "arch": a}) for o, a in SUPPORTED_PLATFORMS):
            errors.append(f"spec.platforms[{i}]'s selector doesn't match any supported platforms")
    for o, a in SUPPORTED_PLATFORMS:
        hits = [i for i, m in enumerate(matchers) if m({"os": o, "arch": a})]
        if len(hits) > 1:
            errors.append(f"multiple spec.platforms (at indexes {hits}) have overlapping selectors that select os={o}/arch={a}")

    warnings = []
    for field, limit in (("description", 80), ("shortDescription", 70), ("caveats", 80)):
        if _long_lines(spec.get(field, ""), limit):
            warnings.append(f"line length in `{field}` exceeds {limit} characters")
    return errors, warnings


# =====================================================================================
# krew's installation (internal/installation, internal/download)
# =====================================================================================


class KrewError(Exception):
    pass


def _is_subpath(base: str, path: str) -> bool:
    """pathutil.IsSubPath: filepath.Rel(base, path) must not start with '..'."""
    return not os.path.relpath(path, base).startswith("..")


def krew_extract(archive: bytes, dest: Path) -> None:
    """download.extractArchive for a gzip'd tar: regular files and directories only, no '..', nothing absolute."""
    if not archive.startswith(b"\x1f\x8b"):
        raise KrewError("mime type is not application/x-gzip")
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for member in tar:
            if member.name == "pax_global_header":
                continue
            if ".." in member.name or member.name.startswith(("/", "\\")):
                raise KrewError(f"refusing to unpack archive with suspicious entry {member.name!r}")
            path = dest / member.name
            if member.isdir():
                path.mkdir(mode=member.mode, parents=True, exist_ok=True)
            elif member.isreg():
                path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
                fd = os.open(path, os.O_CREAT | os.O_WRONLY, member.mode)
                with os.fdopen(fd, "wb") as f:
                    shutil.copyfileobj(tar.extractfile(member), f)
            else:
                raise KrewError(f"unable to handle file type {member.type!r} for {member.name!r} in tar")


def _go_glob(pattern: str) -> list[str]:
    """filepath.Glob: shell patterns per path element, hidden files included, sorted."""
    head, tail = os.path.split(pattern)
    if not any(c in tail for c in "*?["):
        return [pattern] if os.path.lexists(pattern) else []
    dirs = _go_glob(head) if any(c in head for c in "*?[") else [head]
    out = []
    for d in dirs:
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        out += [os.path.join(d, n) for n in names if fnmatch.fnmatchcase(n, tail)]
    return out


def krew_move(from_dir: Path, to_dir: Path, op: dict) -> None:
    """installation.moveFiles for one file operation."""
    if op["to"] != os.path.normpath(op["to"]):
        raise KrewError(f"the provided path is not clean, {op['to']!r} should be {os.path.normpath(op['to'])!r}")
    from_dir, to_dir = os.path.abspath(from_dir), os.path.abspath(to_dir)
    direct = os.path.normpath(os.path.join(from_dir, op["from"]))
    if os.path.exists(direct):  # getDirectMove
        to = os.path.basename(direct) if os.path.normpath(op["to"]) == "." else op["to"]
        moves = [(direct, os.path.abspath(os.path.join(to_dir, to)))]
    else:
        new_dir = os.path.abspath(os.path.join(to_dir, op["to"]))
        found = _go_glob(os.path.join(from_dir, op["from"]))
        if not found:
            raise KrewError(f"no files in the plugin archive matched the glob pattern={op['from']}")
        moves = [(v, os.path.join(new_dir, os.path.basename(v))) for v in found]
    for src, dst in moves:
        if not (_is_subpath(from_dir, src) and _is_subpath(to_dir, dst)):
            raise KrewError(f"can't move, move target {src} -> {dst} is out of bounds")
    for src, dst in moves:
        os.makedirs(os.path.dirname(dst), mode=0o755, exist_ok=True)
        if os.path.isdir(dst):
            shutil.rmtree(dst)
        os.rename(src, dst)


def host_platform() -> dict:
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower(), platform.machine())
    return {"os": sys.platform, "arch": arch}


def krew_install(manifest: dict, archive: bytes, root: Path) -> Path:
    """installation.Install: pick the platform, check the sha256, unpack, move the files, link the bin.

    Returns the link in root/bin; the plugin lands in root/store/NAME/VERSION as with KREW_ROOT=root.
    """
    name, version = manifest["metadata"]["name"], manifest["spec"]["version"]
    candidates = [p for p in manifest["spec"]["platforms"] if selector_matcher(p["selector"])(host_platform())]
    if not candidates:
        raise KrewError(f"plugin {name!r} does not offer installation for this platform ({host_platform()})")
    chosen = candidates[0]
    if hashlib.sha256(archive).hexdigest() != chosen["sha256"]:
        raise KrewError("checksum does not match")
    staging = root / "downloads"
    staging.mkdir(parents=True)
    krew_extract(archive, staging)
    files = chosen.get("files")
    if files is None:
        files = [{"from": "*", "to": "."}]  # applyDefaults
    install_dir = root / "store" / name / version
    install_dir.parent.mkdir(parents=True, exist_ok=True)
    moving = root / "move"
    moving.mkdir(mode=0o755)
    for op in files:
        krew_move(staging, moving, op)
    os.rename(moving, install_dir)
    binary = os.path.join(install_dir, chosen["bin"])
    if not _is_subpath(os.path.abspath(install_dir), os.path.abspath(binary)):
        raise KrewError(f"the bin path {binary} is outside {install_dir}")
    if not os.path.exists(binary):
        raise KrewError(f"source binary ({binary}) cannot be found in extracted archive")
    bin_dir = root / "bin"
    bin_dir.mkdir(exist_ok=True)
    link = bin_dir / ("kubectl-" + name.replace("-", "_"))
    os.symlink(binary, link)
    return link


def installed_license(root: Path) -> list[str]:
    """validate-krew-manifest's validateLicenseFileExists: regular files named like a license."""
    return sorted(
        f for d, _, names in os.walk(root / "store") for f in names
        if os.path.isfile(os.path.join(d, f)) and f.lower() in LICENSE_NAMES
    )  # fmt: skip


# =====================================================================================
# the validator itself: it must refuse what krew refuses
# =====================================================================================


@pytest.mark.parametrize(
    "text, ok",
    [
        ("v0.1.0", True), ("v1.2.3-rc.1", True), ("v1.2.3+build.7", True), ("v1.2.3-alpha.0+x", True),
        ("0.1.0", False), ("v0.1", False), ("v1.2.3.4", False), ("v01.2.3", False), ("v1.02.3", False),
        ("v1.2.3-01", False), ("v1.2.3-", False), ("v1.2.x", False), ("version1", False),
    ],
)  # fmt: skip
def test_semver_rules_are_krews(text, ok):
    if ok:
        parse_semver(text)
    else:
        with pytest.raises(ValueError):
            parse_semver(text)


def _set(path: str, value):
    def mutate(doc):
        keys = path.split(".")
        node = doc
        for k in keys[:-1]:
            node = node[int(k)] if isinstance(node, list) else node[k]
        last = keys[-1]
        if value is _DELETE:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


_DELETE = object()
GOOD_SHA = "a" * 64


@pytest.mark.parametrize(
    "mutate, fragment",
    [
        (_set("apiVersion", "krew.googlecontainertools.github.com/v1alpha1"), "apiVersion"),
        (_set("kind", "Plugins"), "kind"),
        (_set("metadata.name", "api-info"), "should be named"),
        (_set("spec.shortDescription", ""), "short description"),
        (_set("spec.shortDescription", "two\nlines"), "line breaks"),
        (_set("spec.version", "0.1.0"), "not starting with 'v'"),
        (_set("spec.version", 1.0), "want str"),
        (_set("spec.version", _DELETE), "should have a version"),
        (_set("spec.platforms", []), "should have a platform"),
        (_set("spec.platforms.0.uri", ""), "`uri`"),
        (_set("spec.platforms.0.sha256", ""), "`sha256` sum"),
        (_set("spec.platforms.0.sha256", "A" * 64), "is not valid"),
        (_set("spec.platforms.0.sha256", "a" * 63), "is not valid"),
        (_set("spec.platforms.0.bin", _DELETE), "`bin`"),
        (_set("spec.platforms.0.files", []), "unspecified or non-empty"),
        (_set("spec.platforms.0.files.0", {"from": "kubectl-apiinfo"}), "`to`"),
        (_set("spec.platforms.0.files.0", {"to": "."}), "`from`"),
        (_set("spec.platforms.0.selector", _DELETE), "nil selector"),
        (_set("spec.platforms.0.selector", {}), "empty selector"),
        (_set("spec.platforms.0.selector", {"matchLabels": {"os": "linux", "distro": "debian"}}), "not supported"),
        (_set("spec.platforms.0.selector", {"matchLabels": {}, "matchExpressions": [{"key": "os", "operator": "Exists"}]}), "`matchLabels` specified but empty"),
        (_set("spec.platforms.0.selector", {"matchLabels": {"os": "linux"}, "matchExpressions": []}), "`matchExpressions` specified but empty"),
        (_set("spec.platforms.0.selector", {"matchLabels": {"os": "plan9", "arch": "amd64"}}), "doesn't match any supported"),
        (_set("spec.platforms.1.selector", {"matchLabels": {"os": "linux"}}), "overlapping selectors"),
        (_set("spec.platforms.0.selector", {"matchExpressions": [{"key": "os", "operator": "In", "values": []}]}), "invalid selector"),
    ],
)
def test_the_validator_refuses_what_krew_refuses(mutate, fragment):
    doc = yaml.safe_load(MANIFEST.read_text())
    for p in doc["spec"]["platforms"]:
        p["sha256"] = GOOD_SHA  # the checks below must not depend on the build
    assert validate_manifest(copy.deepcopy(doc), PLUGIN) == ([], []), "the unchanged manifest must pass"
    mutate(doc)
    errors, _ = validate_manifest(doc, PLUGIN)
    assert any(fragment in e for e in errors), errors


@pytest.mark.parametrize("name", ["api info", "CON", "lpt1", "apiinfö", ""])
def test_the_validator_refuses_unsafe_plugin_names(name):
    doc = yaml.safe_load(MANIFEST.read_text())
    doc["metadata"]["name"] = name
    errors, _ = validate_manifest(doc, name)
    assert any("is not allowed" in e for e in errors), errors


def test_the_validator_warns_about_long_lines():
    doc = yaml.safe_load(MANIFEST.read_text())
    for p in doc["spec"]["platforms"]:
        p["sha256"] = GOOD_SHA
    doc["spec"]["caveats"] += "a line of words that runs on and on well past the eighty columns that krew asks for in caveats\n"
    assert validate_manifest(doc, PLUGIN) == ([], ["line length in `caveats` exceeds 80 characters"])


# =====================================================================================
# the manifest
# =====================================================================================


def test_manifest_is_a_valid_krew_plugin():
    doc = yaml.safe_load(MANIFEST.read_text())
    assert validate_manifest(doc, PLUGIN) == ([], [])
    spec = doc["spec"]
    assert spec["version"] == f"v{VERSION}", "spec.version must be pyproject.toml's version with a leading v"
    assert spec["homepage"].startswith("https://")
    assert spec["description"].strip()
    assert sorted((p["selector"]["matchLabels"]["os"], p["selector"]["matchLabels"]["arch"]) for p in spec["platforms"]) == [
        ("darwin", "amd64"), ("darwin", "arm64"), ("linux", "amd64"), ("linux", "arm64"),
    ]  # fmt: skip
    for p in spec["platforms"]:
        assert p["uri"] == URI.format(v=VERSION)
        assert p["bin"] == "kubectl-apiinfo"
        assert {op["from"] for op in p["files"]} == {"kubectl-apiinfo", "LICENSE"}
    caveats = spec["caveats"]
    assert "python3" in caveats and "3.9 or newer" in caveats
    assert "ln -sf kubectl-apiinfo kubectl_complete-apiinfo" in caveats


def test_python_floor_is_the_same_everywhere():
    """pyproject's requires-python, the zipapp's own check, the lock's target and the caveat agree."""
    floor = re.fullmatch(r">=\s*3\.(\d+)", PYPROJECT["project"]["requires-python"].strip())
    assert floor, PYPROJECT["project"]["requires-python"]
    minor = int(floor.group(1))
    assert f"sys.version_info < (3, {minor}):" in ZIPAPP_MAIN.read_text()
    assert f'"--python-version", "3.{minor}"' in BUILD.read_text()
    assert f"python3 (3.{minor} or newer)" in yaml.safe_load(MANIFEST.read_text())["spec"]["caveats"]


# =====================================================================================
# the pinned libraries
# =====================================================================================


@dataclass
class Pin:
    name: str
    version: str
    hashes: list


def read_pins() -> dict[str, Pin]:
    pins: dict[str, Pin] = {}
    for lock in LOCKS:
        text = re.sub(r"\\\n", " ", lock.read_text())
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            first, *rest = line.split()
            name, _, version = first.partition("==")
            assert version, f"{lock.name}: {first} is not pinned with =="
            hashes = [r.split(":", 1)[1] for r in rest if r.startswith("--hash=sha256:")]
            assert hashes and len(hashes) == len(rest), f"{lock.name}: {first} needs --hash=sha256:... only"
            assert canonicalize_name(name) not in pins, f"{name} is pinned twice"
            pins[canonicalize_name(name)] = Pin(canonicalize_name(name), version, hashes)
    return pins


def test_pins_satisfy_pyproject_and_leave_out_rich():
    pins = read_pins()
    for dep in PYPROJECT["project"]["dependencies"]:
        req = Requirement(dep)
        pin = pins.get(canonicalize_name(req.name))
        assert pin is not None, f"{req.name} is a run-time dependency but is not pinned for the release"
        assert req.specifier.contains(pin.version, prereleases=True), f"{req.name}=={pin.version} is outside {req.specifier}"
    assert "rich" not in pins


def _wheel_metadata(pin: Pin) -> email.message.Message:
    for path in sorted(WHEEL_CACHE.glob("*.whl")):
        if hashlib.sha256(path.read_bytes()).hexdigest() in pin.hashes:
            with zipfile.ZipFile(path) as zf:
                meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
                return email.message_from_bytes(zf.read(meta))
    raise AssertionError(f"no cached wheel of {pin.name}=={pin.version} with a pinned sha256 in {WHEEL_CACHE}")


def test_pins_run_on_every_python_from_the_floor(built):
    """Each pinned wheel supports every Python 3 the manifest promises, and what each one
    requires there is pinned too (rich excepted: the zipapp turns typer's use of it off)."""
    pins = read_pins()
    floor = int(re.search(r"3\.(\d+)", PYPROJECT["project"]["requires-python"]).group(1))
    pythons = [f"3.{m}" for m in range(floor, 15)]
    for pin in pins.values():
        meta = _wheel_metadata(pin)
        assert canonicalize_name(meta["Name"]) == pin.name and Version(meta["Version"]) == Version(pin.version)
        supported = SpecifierSet(meta.get("Requires-Python") or "")
        assert all(supported.contains(py) for py in pythons), f"{pin.name} {pin.version} needs Python {supported}"
        for line in meta.get_all("Requires-Dist") or []:
            req = Requirement(line)
            for py in pythons:
                for system, sys_platform in (("Linux", "linux"), ("Darwin", "darwin")):
                    env = {"python_version": py, "python_full_version": py + ".0", "platform_system": system,
                           "sys_platform": sys_platform, "extra": ""}  # fmt: skip
                    if req.marker is not None and not req.marker.evaluate(env):
                        continue
                    if canonicalize_name(req.name) == "rich":
                        continue
                    dep = pins.get(canonicalize_name(req.name))
                    assert dep is not None, f"{pin.name} needs {req} on Python {py}, which is not pinned"
                    assert req.specifier.contains(dep.version, prereleases=True), f"{pin.name} needs {req} on Python {py}; pinned {dep.version}"


# =====================================================================================
# the build
# =====================================================================================


@dataclass
class Built:
    archive: Path
    data: bytes
    sha256: str
    manifest: Path  # a copy of krew-manifest.yaml that this build updated
    zipapp: bytes


def run_build(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BUILD), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600, check=False)


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Built:
    out = tmp_path_factory.mktemp("release")
    manifest = out / "krew-manifest.yaml"
    text = MANIFEST.read_text()
    manifest.write_text(re.sub(r"(?m)^(\s+sha256: ).*$", r"\g<1>" + "0" * 64, text))  # as if stale
    result = run_build("--out-dir", out / "dist", "--manifest", manifest, cwd=out)
    assert result.returncode == 0, result.stdout + result.stderr
    archive = out / "dist" / ARCHIVE_NAME
    data = archive.read_bytes()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        zipapp = tar.extractfile("kubectl-apiinfo").read()
    return Built(archive, data, hashlib.sha256(data).hexdigest(), manifest, zipapp)


def test_manifest_sha256_is_the_clean_build(built):
    shas = {p["sha256"] for p in yaml.safe_load(MANIFEST.read_text())["spec"]["platforms"]}
    assert shas == {built.sha256}, (
        f"krew-manifest.yaml does not carry the sha256 of the archive this source builds ({built.sha256}): "
        "run 'python release/build.py' after changing kubectl_apiinfo/, catalog/data/, LICENSE or release/"
    )


def test_build_writes_version_uri_and_sha256_into_the_manifest(built):
    text = built.manifest.read_text()
    doc = yaml.safe_load(text)
    assert doc["spec"]["version"] == f"v{VERSION}"
    assert {(p["uri"], p["sha256"]) for p in doc["spec"]["platforms"]} == {(URI.format(v=VERSION), built.sha256)}
    expected = re.sub(r"(?m)^(\s+sha256: ).*$", r"\g<1>" + built.sha256, MANIFEST.read_text())
    assert text == expected, "everything but the sha256 lines (comments too) must be left as written"


def test_build_is_reproducible_offline_and_checks_the_manifest(built, tmp_path):
    again = run_build("--out-dir", tmp_path, "--offline", "--check", "--manifest", built.manifest, cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert (tmp_path / ARCHIVE_NAME).read_bytes() == built.data, "two builds of the same source differ"

    stale = tmp_path / "stale.yaml"
    stale.write_text(built.manifest.read_text().replace(built.sha256, "1" * 64))
    before = stale.read_text()
    check = run_build("--out-dir", tmp_path / "x", "--offline", "--check", "--manifest", stale, cwd=tmp_path)
    assert check.returncode == 1, check.stdout + check.stderr
    assert "does not match this build" in check.stderr
    assert stale.read_text() == before, "--check must not write the manifest"


def test_build_refuses_a_cached_wheel_with_the_wrong_hash(built, tmp_path):
    cache = tmp_path / "wheels"
    shutil.copytree(WHEEL_CACHE, cache)
    pins = read_pins()
    typer_wheel = next(p for p in cache.glob("typer-*.whl") if hashlib.sha256(p.read_bytes()).hexdigest() in pins["typer"].hashes)
    with open(typer_wheel, "ab") as f:
        f.write(b"\0")  # still a readable zip, but not the pinned file
    result = run_build("--out-dir", tmp_path / "out", "--no-manifest", "--offline", "--wheel-cache", cache, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"typer=={pins['typer'].version}" in result.stderr
    assert not (tmp_path / "out").exists()


def test_archive_is_fixed_byte_for_byte(built):
    data = built.data
    assert data[:3] == b"\x1f\x8b\x08", "gzip, deflate"
    assert data[3] == 0, "no file name (nor any other optional field) in the gzip header"
    assert data[4:8] == b"\0\0\0\0", "gzip mtime 0"
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == ["LICENSE", "kubectl-apiinfo"]
        for m in members:
            assert m.isreg() and m.mtime == FIXED_TIME, m.name
            assert (m.uid, m.gid, m.uname, m.gname) == (0, 0, "root", "root"), m.name
        assert [m.mode for m in members] == [0o644, 0o755]
        assert tar.extractfile("LICENSE").read() == (ROOT / "LICENSE").read_bytes()


def test_zipapp_carries_the_package_catalog_and_libraries_only(built):
    exe = built.zipapp
    assert exe.startswith(b"#!/usr/bin/env python3\n")
    with zipfile.ZipFile(io.BytesIO(exe)) as zf:
        assert zf.testzip() is None
        infos = zf.infolist()
        names = [i.filename for i in infos]
        assert names == sorted(names), "entries are sorted"
        assert len(set(names)) == len(names)
        for i in infos:
            assert i.date_time == (1980, 1, 1, 0, 0, 0), i.filename
            assert i.external_attr >> 16 == 0o100644, i.filename
            assert not i.is_dir()
        bad = [n for n in names if n.endswith((".pyc", ".pyo", ".so", ".pyd", ".dylib")) or "__pycache__" in n]
        assert bad == []
        assert zf.read("__main__.py") == ZIPAPP_MAIN.read_bytes()
        tops = {n.split("/", 1)[0] for n in names if "/" in n and not n.split("/", 1)[0].endswith(".dist-info")}
        assert tops == BUNDLED | {"kubectl_apiinfo"}, "rich, _yaml and anything unpinned stay out"

        catalog = {n[len("kubectl_apiinfo/catalog_data/"):]: zf.read(n) for n in names if n.startswith("kubectl_apiinfo/catalog_data/")}
        on_disk = {p.relative_to(ROOT / "catalog" / "data").as_posix(): p.read_bytes() for p in (ROOT / "catalog" / "data").rglob("*") if p.is_file()}
        assert catalog == on_disk, "the catalog goes in as the wheel carries it: kubectl_apiinfo/catalog_data/"
        assert "releases/1.16.json" in catalog
        package = {n: zf.read(n) for n in names if n.startswith("kubectl_apiinfo/") and not n.startswith("kubectl_apiinfo/catalog_data/")}
        source = {p.relative_to(ROOT).as_posix(): p.read_bytes() for p in (ROOT / "kubectl_apiinfo").rglob("*.py")}
        assert {n: d for n, d in package.items() if n.endswith(".py")} == source
        assert "yaml/__init__.py" in names and "yaml/cyaml.py" in names
        assert "certifi/cacert.pem" in names
        assert any(n.startswith("typer-") and n.endswith(".dist-info/METADATA") for n in names)


# =====================================================================================
# installed as krew installs it, run through a real kubectl, with nothing but python3
# =====================================================================================


def _base_python() -> Path:
    """The interpreter the project venv was made from, not the venv's."""
    for name in (f"python{sys.version_info.major}.{sys.version_info.minor}", "python3"):
        candidate = Path(sys.base_prefix) / "bin" / name
        if candidate.exists():
            real = candidate.resolve()
            assert sys.prefix == sys.base_prefix or not str(real).startswith(sys.prefix)
            return real
    pytest.skip(f"no python3 under sys.base_prefix ({sys.base_prefix})")


@dataclass
class Krew:
    root: Path
    link: Path  # root/bin/kubectl-apiinfo
    env: dict
    home: Path
    python3: Path  # the bare python3 on PATH
    path_dirs: list

    def run(self, *args: str, env: Optional[dict] = None, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(list(args), capture_output=True, text=True, env=env or self.env, cwd=self.home, timeout=timeout, check=False)

    def kubectl(self, *args: str, **kw) -> subprocess.CompletedProcess:
        return self.run("kubectl", *args, **kw)


@pytest.fixture(scope="session")
def krew(built, kubectl, tmp_path_factory) -> Krew:
    base = tmp_path_factory.mktemp("krew")
    manifest = yaml.safe_load(built.manifest.read_text())
    assert validate_manifest(manifest, PLUGIN) == ([], [])
    link = krew_install(manifest, built.data, base / "krew-root")
    assert installed_license(base / "krew-root") == ["LICENSE"], "krew's index wants a LICENSE installed"
    assert os.access(link, os.X_OK)

    kubectl_dir = base / "kubectl-bin"
    kubectl_dir.mkdir()
    (kubectl_dir / "kubectl").symlink_to(kubectl)
    python_dir = base / "python-bin"
    python_dir.mkdir()
    python3 = python_dir / "python3"
    python3.symlink_to(_base_python())
    home = base / "home"
    home.mkdir()
    dirs = [link.parent, kubectl_dir, python_dir]
    env = {"PATH": os.pathsep.join(map(str, dirs)), "HOME": str(home)}  # no KUBECONFIG, nothing else
    return Krew(base / "krew-root", link, env, home, python3, dirs)


def test_krew_install_runs_through_kubectl(krew):
    result = krew.kubectl("apiinfo", "deployments", "--kube-version", "1.16", "-o", "json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["source"]["kind"] == "catalog"
    served = {v["groupVersion"] for r in answer["resources"] for v in r["versions"] if v["served"]}
    assert served == {"apps/v1"}  # only apps/v1 is served by default in 1.16

    listed = krew.kubectl("plugin", "list")
    assert listed.returncode == 0, listed.stderr
    assert str(krew.link) in listed.stdout.splitlines()

    helped = krew.kubectl("apiinfo", "--help")  # help as kubectl prints it (cli/help.py; no typer, no rich)
    assert helped.returncode == 0, helped.stderr
    assert "\nUsage:\n  kubectl apiinfo " in helped.stdout and "\n  resources " in helped.stdout

    wrong = krew.kubectl("apiinfo", "deployments", "--no-such-flag")
    assert wrong.returncode != 0
    assert wrong.stderr.startswith("error: ") and len(wrong.stderr.strip().splitlines()) == 1, wrong.stderr

    as_yaml = krew.kubectl("apiinfo", "ingresses", "--kube-version", "1.21", "-o", "yaml")
    assert as_yaml.returncode == 0, as_yaml.stderr
    assert yaml.safe_load(as_yaml.stdout)["resources"][0]["name"] == "ingresses"

    bare = krew.run("python3", "-c", "import typer")
    assert bare.returncode != 0 and "No module named 'typer'" in bare.stderr, "the libraries must come from the zipapp"


def planted_site(krew: Krew, where: Path) -> dict:
    """An environment whose python3 sees broken libraries in the user's site-packages.

    Each bundled name raises on import; a .pth file loads a harmless-looking but
    empty click at start-up (as a .pth may load anything); simplejson, which
    requests prefers over json when it is importable, blows up.
    """
    env = dict(krew.env, PYTHONUSERBASE=str(where / "userbase"))
    site_dir = Path(krew.run("python3", "-c", "import site; print(site.getusersitepackages())", env=env).stdout.strip())
    assert str(site_dir).startswith(str(where)), site_dir
    for name in ("rich", "typer", "yaml", "requests", "certifi", "urllib3", "diskcache"):
        (site_dir / name).mkdir(parents=True)
        (site_dir / name / "__init__.py").write_text(f"raise ImportError('planted {name}')\n")
    (site_dir / "click").mkdir()
    (site_dir / "click" / "__init__.py").write_text("PLANTED = True\n")
    (site_dir / "zz-preload.pth").write_text("import click\n")
    (site_dir / "simplejson").mkdir()
    (site_dir / "simplejson" / "__init__.py").write_text("raise RuntimeError('planted simplejson')\n")
    # python3 itself sees them all:
    seen = krew.run("python3", "-c", "import sys; print(sys.modules['click'].PLANTED); import simplejson", env=env)
    assert seen.stdout.strip() == "True" and "planted simplejson" in seen.stderr, seen.stdout + seen.stderr
    return env


def test_zipapp_imports_nothing_from_site_packages(krew, tmp_path):
    # With -S python3 has no site-packages at all: the standard library and the archive are enough.
    isolated = krew.run("python3", "-S", str(krew.link), "resources", "--kube-version", "1.20", "-o", "yaml")
    assert isolated.returncode == 0, isolated.stderr
    assert "deployments" in isolated.stdout

    # Whatever the user's site-packages holds (or a .pth has already imported), the plugin does not use it.
    env = planted_site(krew, tmp_path)
    for args in (("deployments", "-o", "yaml"), ("--help",), ("versions", "--kube-version", "1.24")):
        result = krew.kubectl("apiinfo", *args, env=env)
        assert result.returncode == 0, result.stderr
        assert "planted" not in result.stdout + result.stderr


def test_live_cluster_through_kubectl(krew, fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="s3cret")
    kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
    planted = planted_site(krew, tmp_path)  # requests, urllib3 and certifi too come from the zipapp
    result = krew.kubectl("apiinfo", "deployments", "--kubeconfig", str(kubeconfig), "-o", "json", env=planted)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["source"]["kind"] == "cluster"
    assert answer["source"]["kubernetesVersion"] == "1.33"
    assert any(r["apiVersion"] == "apps/v1" for r in answer["resources"])
    assert api.requests()["count"] > 0, "the answer came over HTTPS from the server"

    # No certificate-authority: requests verifies against certifi's bundle, read from
    # inside the zip; the fake CA is not in it, so TLS fails -- but as a verification failure.
    doc = yaml.safe_load(kubeconfig.read_text())
    doc["clusters"][0]["cluster"].pop("certificate-authority")
    doc["clusters"][0]["name"] = doc["contexts"][0]["context"]["cluster"] = "no-ca"
    doc["contexts"][0]["name"] = doc["current-context"] = "no-ca"
    no_ca = tmp_path / "no-ca"
    no_ca.write_text(yaml.safe_dump(doc))
    fresh_home = tmp_path / "home"
    fresh_home.mkdir()
    failed = krew.kubectl("apiinfo", "deployments", "--kubeconfig", str(no_ca), env=dict(krew.env, HOME=str(fresh_home)))
    assert failed.returncode != 0
    assert "certificate verify failed" in failed.stderr, failed.stderr
    assert "CA certificate bundle" not in failed.stderr


def test_completion_link_from_the_caveats_works(krew, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "kubectl-apiinfo").symlink_to(krew.link.resolve())
    subprocess.run("ln -sf kubectl-apiinfo kubectl_complete-apiinfo", shell=True, cwd=bin_dir, check=True)
    env = dict(krew.env, PATH=os.pathsep.join(map(str, [bin_dir, *krew.path_dirs[1:]])))
    result = krew.kubectl("__complete", "apiinfo", "deploy", env=env)
    assert result.returncode == 0, result.stderr
    assert "deployments" in result.stdout.splitlines()


def test_zipapp_unpacks_once_per_build_and_runs_the_copy(krew, tmp_path):
    cache = tmp_path / "cache"
    env = dict(krew.env, XDG_CACHE_HOME=str(cache))
    runtime = cache / "kubectl-apiinfo-runtime"
    stale = runtime / "0123456789abcdef01234567"  # an earlier build's copy
    stale.mkdir(parents=True)
    first = krew.kubectl("apiinfo", "deployments", "-o", "name", env=env)
    assert first.returncode == 0 and first.stdout == "deployments.apps\n", first.stderr
    [build] = list(runtime.iterdir())  # the earlier build's copy is gone
    assert (build / ".complete").is_file()
    assert list((build / "kubectl_apiinfo" / "cli" / "__pycache__").glob("main.*.pyc")), "bytecode is kept for later runs"

    # Later runs import the copy: a change to it shows.
    init = build / "kubectl_apiinfo" / "__init__.py"
    init.write_text(init.read_text() + "\nimport sys\nsys.stderr.write('from the unpacked copy\\n')\n")
    for pyc in (build / "kubectl_apiinfo" / "__pycache__").glob("__init__.*.pyc"):
        pyc.unlink()
    second = krew.kubectl("apiinfo", "deployments", "-o", "name", env=env)
    assert second.stdout == "deployments.apps\n" and "from the unpacked copy" in second.stderr

    # Where the cache cannot be created at all, the archive itself serves.
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    fallback = krew.kubectl("apiinfo", "deployments", "-o", "name", env=dict(krew.env, XDG_CACHE_HOME=str(blocked / "cache")))
    assert fallback.returncode == 0 and fallback.stdout == "deployments.apps\n" and fallback.stderr == ""
