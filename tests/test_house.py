"""The package's shape, checked: layers import only downwards, no module imports itself round a circle,
no module is over 450 lines, each says in its first line what it holds, and the cluster flags are the
spec's."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kubectl_apiinfo"
MAX_LINES = 450

# Higher imports lower, never the other way round (README: Development).
LAYERS = [
    ("kubectl_apiinfo.cli", 9),
    ("kubectl_apiinfo.__main__", 9),
    ("kubectl_apiinfo.commands", 8),
    ("kubectl_apiinfo.printers", 7),
    ("kubectl_apiinfo.answers", 6),
    ("kubectl_apiinfo.inputs", 5),
    ("kubectl_apiinfo.sources.select", 5),
    ("kubectl_apiinfo.sources.source", 4.8),
    ("kubectl_apiinfo.sources.crds", 4.7),
    ("kubectl_apiinfo.sources.catalog", 4.6),
    ("kubectl_apiinfo.sources.openapi", 4.4),
    ("kubectl_apiinfo.sources.cluster", 4.2),
    ("kubectl_apiinfo.sources.snapshots", 4),
    ("kubectl_apiinfo.kube", 3),
    ("kubectl_apiinfo.console", 2),
    ("kubectl_apiinfo.model", 1),
    ("kubectl_apiinfo.errors", 1),
    ("kubectl_apiinfo.files", 1),
    ("kubectl_apiinfo", 0),  # the package's face: __version__
]


def _modules() -> dict:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _layer(module: str) -> float:
    for prefix, rank in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            return rank
    raise AssertionError(f"{module} is in no layer: add its folder to LAYERS and the README's tree")


def _imports(module: str, path: Path, known: dict) -> set:
    """The package's modules this one imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            if name in known and name != module:
                found.add(name)
    return found


def test_every_import_points_down_a_layer_or_stays_in_its_room():
    known = _modules()
    upward = []
    for module, path in known.items():
        for imported in _imports(module, path, known):
            if _layer(imported) > _layer(module):
                upward.append(f"{module} imports {imported}")
    assert upward == []


def test_no_module_imports_itself_round_a_circle():
    known = _modules()
    graph = {m: _imports(m, p, known) - {"kubectl_apiinfo"} for m, p in known.items()}
    circles = []

    def visit(module, trail):
        for nxt in graph[module]:
            if nxt in trail:
                circles.append(" -> ".join(trail[trail.index(nxt):] + [nxt]))
            elif nxt not in done:
                visit(nxt, trail + [nxt])
        done.add(module)

    done: set = set()
    for module in graph:
        if module not in done:
            visit(module, [module])
    assert circles == []


@pytest.mark.parametrize("module", sorted(_modules()))
def test_a_module_is_small_and_says_what_it_holds(module):
    path = _modules()[module]
    text = path.read_text()
    assert len(text.splitlines()) <= MAX_LINES, f"{module} has {len(text.splitlines())} lines"
    if not text.strip():
        return  # an empty __init__.py: a folder's marker
    docstring = ast.get_docstring(ast.parse(text))
    assert docstring and docstring.splitlines()[0].strip(), f"{module} does not open with what it holds"


def test_the_cluster_flags_are_the_specs_cluster_options():
    from kubectl_apiinfo.cli import spec
    from kubectl_apiinfo.sources.cluster.flags import ClusterFlags

    assert set(ClusterFlags.__slots__) == {o.dest for o in spec.QUERY_CLUSTER_OPTIONS}
    values = {o.dest: f"value-of-{o.dest}" for o in spec.QUERY_CLUSTER_OPTIONS}
    flags = ClusterFlags.from_values(values)
    assert all(getattr(flags, dest) == value for dest, value in values.items())
    assert ClusterFlags.from_values({"request_timeout": 0}).request_timeout is None, "0 means no limit, as in kubectl"


def test_options_are_the_commands_own_and_nothing_else():
    from kubectl_apiinfo.cli import spec, validate
    from kubectl_apiinfo.errors import UserError

    show = spec.command("show")
    options = validate.complete(("show",), show, {"resource": "deployments"})
    assert options.resource == "deployments" and options.output == "table"
    with pytest.raises(AttributeError):
        options.filename  # check's option, not show's  # noqa: B018
    with pytest.raises(UserError, match="contradict"):
        validate.complete(("show",), show, {"resource": "pods", "refresh": "true", "offline": "true"})
    assert "***" in repr(validate.complete(("show",), show, {"resource": "pods", "token": "s3cret"}))
    assert "s3cret" not in repr(validate.complete(("show",), show, {"resource": "pods", "token": "s3cret"}))


def test_only_the_database_module_knows_the_stores_tables():
    known = _modules()
    users = set()
    for module, path in known.items():
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            if any(n.split(".")[0] in ("diskcache", "sqlite3") for n in names):
                users.add(module)
    assert users == {"kubectl_apiinfo.sources.snapshots.database"}
