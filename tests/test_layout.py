"""The package's layout: no module uses another module's private names.

A name starting with one underscore is its module's own business.  The check reads every module of
kubectl_apiinfo/ with ast and finds `from X import _y` (X any module) and `X._y` where X is a name that
an import bound (a module, or anything imported from one), wherever in the module the import is.
Calls on objects (`client._send(...)`) are not seen: only what an import names.
"""

from __future__ import annotations

import ast
from pathlib import Path

import kubectl_apiinfo

PACKAGE = Path(kubectl_apiinfo.__file__).resolve().parent

# Uses of another module's private names that are still to go, as (file under kubectl_apiinfo/, the use).
# Each entry is someone's to fix; delete it with the fix (this test fails while an entry is no longer found).
# kube/ has none and may have none.
ALLOWED: set = set()  # (file under kubectl_apiinfo/, "module._name"): none, and none may be added under kube/
# Not seen by this check: diskcache's own private SQL helper (Cache._sql), which sources/snapshots/database.py
# alone calls, to read inside the writer's open transaction; database.py is the one module that knows the
# store's table layout.


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _absolute(node: ast.ImportFrom, module: str) -> str:
    """The module an ImportFrom reads from, relative imports resolved against the dotted module name."""
    if not node.level:
        return node.module or ""
    base = module.split(".")[: -node.level]
    return ".".join(base + ([node.module] if node.module else []))


def private_uses(source: str, module: str) -> list[tuple[int, str]]:
    """(line, use) for what the module (dotted name `module`) uses of other modules' private names, in order."""
    tree = ast.parse(source)
    bound: set[str] = set()  # names that imports bound, anywhere in the module
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if any(_private(part) for part in alias.name.split(".")):
                    found.append((node.lineno, f"import {alias.name}"))
                bound.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            origin = _absolute(node, module)
            for alias in node.names:
                if _private(alias.name) or any(_private(part) for part in origin.split(".")):
                    found.append((node.lineno, f"from {origin} import {alias.name}"))
                bound.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            chain, value = [node.attr], node.value
            while isinstance(value, ast.Attribute):
                chain.append(value.attr)
                value = value.value
            if isinstance(value, ast.Name) and value.id in bound:
                found.append((node.lineno, ".".join([value.id, *reversed(chain)])))
    return sorted(found)


def package_private_uses() -> dict[tuple[str, str], list[int]]:
    """{(file under kubectl_apiinfo/, use): [line, ...]} for every module of the package."""
    uses: dict[tuple[str, str], list[int]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        module = ".".join(["kubectl_apiinfo", *path.relative_to(PACKAGE).with_suffix("").parts])
        source = path.read_text(encoding="utf-8")
        for line, use in private_uses(source, module):
            uses.setdefault((relative, use), []).append(line)
    return uses


def test_the_check_sees_each_kind_of_private_use():
    source = """
import kubectl_apiinfo.kube.transport
import kubectl_apiinfo.kube.transport as transport
from kubectl_apiinfo.kube.credentials import Credentials, _read
from kubectl_apiinfo.kube import _hidden_module
from kubectl_apiinfo.sources import choose
from . import _sibling
from __future__ import annotations
from kubectl_apiinfo.console import warn as _warn


def f(client, self):
    from kubectl_apiinfo.sources import store
    transport._reason(1)
    kubectl_apiinfo.kube.transport._innermost(2)
    choose._resolution_key
    store.SnapshotCache._read(3)
    Credentials._where
    client._send("/")  # an object, not a module: not seen
    self._private, choose.__name__, _warn("public, bound to a private name")
"""
    assert [use for _, use in private_uses(source, "kubectl_apiinfo.sources.example")] == [
        "from kubectl_apiinfo.kube.credentials import _read",
        "from kubectl_apiinfo.kube import _hidden_module",
        "from kubectl_apiinfo.sources import _sibling",
        "transport._reason",
        "kubectl_apiinfo.kube.transport._innermost",
        "choose._resolution_key",
        "store.SnapshotCache._read",
        "Credentials._where",
    ]


def test_no_module_uses_another_modules_private_names():
    modules = list(PACKAGE.rglob("*.py"))
    assert len(modules) > 40 and (PACKAGE / "kube" / "transport.py") in modules
    uses = package_private_uses()
    assert not [key for key in ALLOWED if key[0].startswith("kube/")], "kube/ may not have allowed private uses"
    unexpected = {f"kubectl_apiinfo/{file}:{lines[0]}: {use}" for (file, use), lines in uses.items() if (file, use) not in ALLOWED}
    assert not unexpected, "private names of another module; give them a public name in the module that owns them:\n" + "\n".join(sorted(unexpected))
    gone = sorted(f"{file}: {use}" for file, use in ALLOWED if (file, use) not in uses)
    assert not gone, "fixed, so delete these entries from ALLOWED in tests/test_layout.py:\n" + "\n".join(gone)
