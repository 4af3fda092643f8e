"""The router: every well-formed line answered without typer, the same values and answers as the
generated typer app, and none of typer's import cost."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer

from conftest import COMMAND, clean_env
from kubectl_apiinfo.cli import router as fastpath
from kubectl_apiinfo.cli import spec, typer_app, validate
from kubectl_apiinfo.errors import UserError


def _declared(command) -> set:
    return {opt for p in command.params if getattr(p, "param_type_name", "") == "option" for opt in p.opts} - {"--help", "-h"}


def test_the_typer_app_declares_what_the_spec_declares():
    root = typer.main.get_command(typer_app.build(lambda *a: None))
    assert set(root.commands) == {c.name for c in spec.COMMANDS}
    for path, command in spec.leaves():
        generated = root
        for word in path:
            generated = generated.commands[word]
        assert _declared(generated) == {n for o in command.options for n in o.names}, path
        assert [p.name for p in generated.params if p.param_type_name == "argument"] == [a.dest for a in command.arguments]


@pytest.mark.parametrize(
    "args",
    [
        ["deployments"],
        ["deploy", "-o", "json", "--kube-version", "1.15"],
        ["--kube-version=1.19", "ingresses.v1beta1.networking.k8s.io", "-owide"],
        ["show", "events", "-o", "yaml"],
        ["podsecuritypolicies"],
        ["deploymnets"],
        ["resources", "--namespaced", "--verbs", "create", "--verbs=watch", "--sort-by", "kind"],
        ["resources", "--namespaced=false", "-o", "name", "--kube-version", "1.24"],
        ["deployments", "--offline=true"],
        ["--", "deployments"],
        ["cache", "list", "-o", "json"],
        ["version"],
        ["resources", "--api-group", "", "--no-headers", "-o", "wide"],
        ["versions", "--kube-version", "v1.22.3", "-o", "wide"],
        ["releases", "-o", "json"],
        ["deployments", "-o", "bogus"],
        ["deployments", "--kube-version", "1.99"],
        ["resources", "--sort-by", "age"],
        ["deployments", "--offline"],
        ["deployments", "--refresh", "--offline"],
        ["plan", "--from", "1.22", "--to", "1.30"],  # --from's dest is a Python keyword: typer's parameter is from_
        ["plan", "--to", "1.22", "--from=1.30", "-f", "-"],
        ["timeline", "ingresses", "apps", "--kube-version", "1.21", "--color=never"],
        ["timeline", "--all", "-o", "json"],
        ["timeline"],
    ],
)
def test_fast_and_typer_paths_answer_alike(tmp_path, args):
    env = clean_env(tmp_path)
    fast = subprocess.run([str(COMMAND), *args], capture_output=True, text=True, env=env)
    slow = subprocess.run([str(COMMAND), *args], capture_output=True, text=True, env={**env, "KUBECTL_APIINFO_NO_FASTPATH": "1"})
    assert (fast.returncode, fast.stdout, fast.stderr) == (slow.returncode, slow.stdout, slow.stderr)
    assert fastpath.parse(args) is not None  # these really took the fast path


@pytest.mark.parametrize(
    "args",
    [
        ["refresh", "extra"], ["cache", "bogus"], ["version", "extra"], ["resources", "--bogus"],
        ["deployments", "--no-headers"], ["deployments", "pods"], ["resources", "pods"],
        ["resources", "--namespaced", "false"], ["versions", "--api-group", "apps"], ["releases", "--api-group", "x"],
    ],
)
def test_everything_else_goes_to_typer(args):
    assert fastpath.parse(args) is None and fastpath.help_path(args) is None


@pytest.mark.parametrize(
    "args,path",
    [
        (["--help"], ()), ([], ()), (["-h", "--kube-version", "1.30"], ()), (["deployments", "--help"], ("show",)),
        (["resources", "-o", "wide", "-h"], ("resources",)), (["-h", "resources"], ("resources",)), (["cache"], ("cache",)),
        (["cache", "bogus", "--help"], ("cache",)), (["cache", "list", "-h"], ("cache", "list")),
    ],
)
def test_help_is_asked_for_anywhere_on_the_line_and_never_reaches_typer(args, path):
    assert fastpath.parse(args) is None
    assert fastpath.help_path(args) == path


def test_a_flag_at_the_end_without_its_value_is_the_routers_own_error():
    """typer would reorder the line and take the next positional as the value ('Missing argument')."""
    with pytest.raises(UserError, match="^flag needs an argument: 'o' in -o$"):
        fastpath.parse(["deployments", "-o"])


def test_a_cached_query_imports_neither_typer_nor_requests_nor_yaml(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    env = clean_env(tmp_path, KUBECONFIG=str(api.write_kubeconfig(tmp_path / "kubeconfig")))
    assert subprocess.run([str(COMMAND), "deployments"], env=env, capture_output=True).returncode == 0
    for args in (["deployments"], ["resources"], ["deployments", "--kube-version", "1.20"]):
        probe = (
            "import sys\nfrom kubectl_apiinfo.cli.main import main\n"
            f"sys.argv = ['kubectl-apiinfo', *{args!r}]\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
            "heavy = sorted(m for m in ('typer', 'click', 'requests', 'urllib3', 'yaml', 'rich') if m in sys.modules)\n"
            "sys.stderr.write('HEAVY=' + ','.join(heavy))\n"
        )
        result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
        assert result.stderr.endswith("HEAVY="), (args, result.stderr[-300:])
    assert api.requests()["count"] == 4  # the first fetch: /version, /api, /apis, the CRDs; cached queries none


def test_refresh_on_both_paths(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc", aggregated=False)
    env = clean_env(tmp_path, KUBECONFIG=str(api.write_kubeconfig(tmp_path / "kubeconfig")))
    assert fastpath.parse(["refresh", "-o", "json"]) is not None
    fast = subprocess.run([str(COMMAND), "refresh", "-o", "json"], capture_output=True, text=True, env=env)
    slow = subprocess.run([str(COMMAND), "refresh", "-o", "json"], capture_output=True, text=True, env={**env, "KUBECTL_APIINFO_NO_FASTPATH": "1"})
    assert fast.returncode == slow.returncode == 0, fast.stderr + slow.stderr
    assert fast.stdout == slow.stdout and fast.stderr == slow.stderr
    api.stop()
    fast = subprocess.run([str(COMMAND), "refresh"], capture_output=True, text=True, env=env)
    slow = subprocess.run([str(COMMAND), "refresh"], capture_output=True, text=True, env={**env, "KUBECTL_APIINFO_NO_FASTPATH": "1"})
    assert (fast.returncode, fast.stdout, fast.stderr) == (slow.returncode, slow.stdout, slow.stderr)
    assert fast.returncode == 1 and fast.stderr.startswith("error: refreshing fake failed")


# --- the router and the typer app read every option alike ---------------------

_SAMPLES = {
    spec.STRING: ["apps", ""],
    spec.STRINGS: ["get,list", "watch"],
    spec.DURATION: ["1m30s", "0", "45"],
    spec.RELEASE: ["1.24", "v1.30.2"],
}


def _lines(path: tuple, command: spec.Command):
    """Command lines that give each option once in each of pflag's spellings, plus one with no options."""
    words = [*path] if path != ("show",) else []
    arguments = {"resource": ["deployments"], "names": ["a", "b"], "file": ["bundle.json"], "before": ["1.24"], "after": ["1.25"],
                 "files": ["a.yaml", "b.yaml"], "words": ["ingresses", "apps"]}
    args = [v for a in command.arguments for v in arguments[a.dest]]
    yield [*words, *args]
    for o in command.options:
        if o.kind == spec.BOOL:
            for spelled in ([o.name], [f"{o.name}=false"], [f"{o.name}=true"]):
                yield [*words, *args, *spelled]
        elif o.kind == spec.CHOICE:
            for value in o.choices:
                yield [*words, *spelled_value(o, value), *args]
        elif o.kind == spec.STRINGS:
            yield [*words, *args, o.name, _SAMPLES[o.kind][0], f"{o.name}={_SAMPLES[o.kind][1]}"]
        else:
            for value in _SAMPLES[o.kind]:
                yield [*words, *args, *spelled_value(o, value)]


def spelled_value(o: spec.Option, value: str) -> list:
    return [o.short, value] if o.short else [f"{o.name}={value}"]


def _outcome(path, command, values):
    """The validated values, or the one-line error validation gives (refresh --offline, say)."""
    from kubectl_apiinfo.errors import UserError

    try:
        options = validate.complete(path, command, values)
        return {**options.values(), "path": options.path, "flags": options.flags}
    except UserError as e:
        return f"error: {e}"


def _through_typer(args: list):
    seen = {}

    def capture(path, command, values):
        seen["outcome"] = _outcome(path, command, values)

    typer_app.run(fastpath.typer_args(args), capture)
    return seen["outcome"]


@pytest.mark.parametrize("path,command", list(spec.leaves()), ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_router_and_typer_app_give_the_same_values_defaults_included(path, command):
    lines = list(_lines(path, command))
    assert len(lines) > len(command.options)
    for args in lines:
        parsed = fastpath.parse(args)
        assert parsed is not None and parsed.path == path, args
        routed = _outcome(parsed.path, parsed.command, parsed.values)
        assert routed == _through_typer(args), args
        if isinstance(routed, str):
            continue
        for o in command.options:  # every option has its value, and an absent one its spec default
            if not any(a.split("=")[0] in o.names for a in args):
                expected = validate._value(o, [] if o.kind == spec.STRINGS else None)
                assert routed[o.dest] == expected, (args, o.name)


def test_a_default_lives_in_the_spec_only():
    versions = spec.command("versions")
    [output] = [o for o in versions.options if o.dest == "output"]
    assert output.default == "table"
    parsed = fastpath.parse(["versions"])
    assert parsed.values["output"] is None, "the router leaves an absent option to validation"
    assert validate.complete(("versions",), versions, parsed.values).values()["output"] == "table"
    changed = output.with_choices(output.choices, "wide")
    edited = spec.Command("versions", "", options=[changed if o is output else o for o in versions.options])
    assert validate.complete(("versions",), edited, parsed.values).values()["output"] == "wide", "the spec's default decides"


def test_an_environment_variable_stands_in_for_an_absent_flag(monkeypatch):
    show = spec.command("show")
    parsed = fastpath.parse(["deployments"])
    assert validate.complete(("show",), show, parsed.values).values()["cache_ttl"] == 6 * 3600
    monkeypatch.setenv("KUBECTL_APIINFO_CACHE_TTL", "30m")
    assert validate.complete(("show",), show, parsed.values).values()["cache_ttl"] == 1800
    given = fastpath.parse(["deployments", "--cache-ttl", "0"])
    assert validate.complete(("show",), show, given.values).values()["cache_ttl"] == 0, "the flag wins"


def _literals(text: str) -> list:
    """Every string literal of a module except docstrings, which may talk about flags."""
    import ast

    tree = ast.parse(text)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
    }
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings]


def _flag_calls(text: str) -> list:
    """The settings named by errors.flag("...") calls in a module."""
    import ast

    return [
        n.args[0].value
        for n in ast.walk(ast.parse(text))
        if isinstance(n, ast.Call) and getattr(n.func, "id", getattr(n.func, "attr", "")) == "flag"
        and n.args and isinstance(n.args[0], ast.Constant)
    ]


# Another program's flags that happen to be spelled as one of ours, printed for that program: not our option.
_OTHER_PROGRAMS_FLAGS = {"printers/listings.py": {"--kube-version"}}  # versions -o helm: helm template's flag
# Help's example command lines spell flags as a user types them; tests/test_help.py reads each through the
# router, so a flag renamed in the spec fails there instead of going stale here.
_EXAMPLES = "cli/examples.py"


def test_each_option_name_is_written_once_in_the_package():
    import re
    from pathlib import Path

    names = {n for o in spec.all_options().values() for n in o.names if n.startswith("--")}
    package = Path(spec.__file__).resolve().parent.parent
    offenders = []
    for path in package.rglob("*.py"):
        if path.name == "spec.py" and path.parent.name == "cli" or path.relative_to(package).as_posix() == _EXAMPLES:
            continue
        for literal in _literals(path.read_text(encoding="utf-8")):
            for flag in re.findall(r"--[a-z][a-z-]*", literal):
                if flag in names and flag not in _OTHER_PROGRAMS_FLAGS.get(path.relative_to(package).as_posix(), ()):
                    offenders.append(f"{path.relative_to(package)}: {flag}")
        for dest in _flag_calls(path.read_text(encoding="utf-8")):
            option = spec.all_options().get("--" + dest.replace("_", "-"))
            if option is None or option.dest != dest:
                offenders.append(f"{path.relative_to(package)}: flag({dest!r}) names no option of the spec")
    assert offenders == []


# --- the defects the one spec removed -------------------------------------------

from conftest import assert_one_line_error  # noqa: E402


def test_completion_offers_only_the_commands_own_flags(tmp_path):
    from test_completion import complete

    env = clean_env(tmp_path)
    assert complete(env, "versions", "--api")[0] == []
    assert complete(env, "releases", "--con")[0] == []
    assert complete(env, "cache", "list", "--all")[0] == []
    assert complete(env, "resources", "--api")[0] == ["--api-group"]
    assert complete(env, "refresh", "--all")[0] == ["--all-contexts"]
    assert complete(env, "--cache-dir", "")[1] == ":16", "a DIR metavar completes directories"
    assert complete(env, "cache", "export", "")[1] == ":0", "a FILE argument completes file names"


def test_options_are_validated_before_the_cache_or_network_is_touched(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    env = clean_env(tmp_path, KUBECONFIG=str(api.write_kubeconfig(tmp_path / "kubeconfig")))
    assert subprocess.run([str(COMMAND), "deployments"], env=env, capture_output=True).returncode == 0
    before = api.requests()["count"]
    cases = [
        (["deployments", "--request-timeout", "bogus"], "--request-timeout 'bogus' is not a duration"),
        (["deployments", "--request-timeout", "bogus", "--refresh"], "--request-timeout 'bogus' is not a duration"),
        (["deployments", "--request-timeout", "99999999999h"], "out of range"),
        (["deployments", "--kube-version", "1.20", "--context", "nope"], "--context selects a cluster"),
        (["deployments", "--kube-version", "1.20", "--refresh"], "--refresh selects a cluster"),
        (["refresh", "--offline"], "--offline forbids"),
        (["refresh", "--refresh", "--offline"], "contradict"),
        (["refresh", "--all-contexts", "--context", "fake"], "contradict"),
        (["deployments", "--offline=yes"], "--offline takes true or false"),
        (["resources", "--namespaced=yes"], "--namespaced takes true or false"),
        (["resources", "--namespaced", "false"], "unexpected extra argument (false)"),
        (["deployments", "--kube-version", ""], "'' is not a Kubernetes version"),
        (["versions", "--api-group", "apps"], "No such option"),
        (["deployments", "-o", "plaintext"], "accepts only table, wide, json, yaml or name"),
        (["explain", "deployments", "--api-version", "a/b/c"], "'a/b/c' is not GROUP/VERSION"),
        (["explain", "deployments", "-o", "wide"], "accepts only text, plaintext, plaintext-openapiv2, json or yaml"),
        (["explain", "deployments.spec", "--refresh", "--offline"], "contradict"),
    ]
    for args, fragment in cases:
        result = subprocess.run([str(COMMAND), *args], env=env, capture_output=True, text=True)
        assert result.returncode == 1, (args, result.stderr)
        assert_one_line_error(result, fragment)
    assert api.requests()["count"] == before, "nothing was fetched for a line that fails validation"


def test_booleans_read_as_pflag_reads_them(tmp_path):
    env = clean_env(tmp_path)
    run = lambda *a: subprocess.run([str(COMMAND), *a], env=env, capture_output=True, text=True)  # noqa: E731
    namespaced = run("resources", "--kube-version", "1.33", "--namespaced", "-o", "name").stdout.split()
    cluster_scoped = run("resources", "--kube-version", "1.33", "--namespaced=false", "-o", "name").stdout.split()
    assert "pods" in namespaced and "nodes" not in namespaced
    assert "nodes" in cluster_scoped and "pods" not in cluster_scoped
    assert run("resources", "--kube-version", "1.33", "--namespaced=F", "-o", "name").stdout.split() == cluster_scoped
    assert run("deployments", "--offline=true", "-o", "name").returncode == 0
    assert run("deployments", "--no-headers=1").returncode == 1  # show has no --no-headers


def test_every_error_exits_1(tmp_path):
    env = clean_env(tmp_path)
    for args in (["resources", "--bogus"], ["deployments", "extra"], ["deploymnets"], ["deployments", "-o"],
                 ["cache", "clear", "nosuch"], ["cache", "import", str(tmp_path / "missing.json")]):
        result = subprocess.run([str(COMMAND), *args], env=env, capture_output=True, text=True)
        assert result.returncode == 1, (args, result.returncode, result.stderr)
        assert_one_line_error(result)


def test_a_huge_argument_is_not_echoed_whole(tmp_path):
    word = "x" * 100_000
    result = subprocess.run([str(COMMAND), word, "--kube-version", word], env=clean_env(tmp_path), capture_output=True, text=True)
    assert_one_line_error(result, "is not a Kubernetes version")
    assert len(result.stderr) < 400
    for args in ([word], ["explain", word + ".spec"], ["resources", "--api-group", word, "--kube-version", "1.33"]):
        result = subprocess.run([str(COMMAND), *args], env=clean_env(tmp_path), capture_output=True, text=True)
        assert len(result.stderr) < 600, (args[0][:10], result.stderr[:200])


_ALLOWED_THIRD_PARTY = {"diskcache", "kubectl_apiinfo"}
_NEVER = {"typer", "click", "requests", "urllib3", "yaml", "rich", "typing", "dataclasses"}


def test_a_cached_query_imports_only_the_allowlist(fake_apiserver, tmp_path):
    if not hasattr(sys, "stdlib_module_names"):
        pytest.skip("needs Python 3.10+ to tell the standard library apart")
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    env = clean_env(tmp_path, KUBECONFIG=str(api.write_kubeconfig(tmp_path / "kubeconfig")))
    assert subprocess.run([str(COMMAND), "deployments"], env=env, capture_output=True).returncode == 0
    allowed = (set(sys.stdlib_module_names) | _ALLOWED_THIRD_PARTY) - _NEVER
    for args in (["deployments"], ["resources"], ["versions", "-o", "name"], ["deployments", "--kube-version", "1.20"],
                 ["timeline", "deployments"]):
        probe = (
            "import sys\nbefore = set(sys.modules)\nfrom kubectl_apiinfo.cli.main import main\n"
            f"sys.argv = ['kubectl-apiinfo', *{args!r}]\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
            "sys.stderr.write('NEW=' + ' '.join(sorted(set(sys.modules) - before)))\n"
        )
        result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
        new = result.stderr.rsplit("NEW=", 1)[1].split()
        tops = {m.split(".")[0] for m in new}
        assert tops <= allowed, (args, sorted(tops - allowed))
        assert not tops & _NEVER
