"""Help as kubectl prints it: the layout of `kubectl api-resources --help` and `kubectl --help`, from the
spec, for every command; and every example in it real (it reads through the router, and those that need no
cluster run and succeed)."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys

import pytest

from conftest import COMMAND, ROOT, clean_env, use_contexts
from kubectl_apiinfo.cli import examples, help as help_text, router, spec, validate

LEAVES = list(spec.leaves())
IDS = [" ".join(path) for path, _ in LEAVES]

# The lines of kubectl's help, as `kubectl api-resources --help` prints them.
HEADING = re.compile(r"^[A-Z][A-Za-z ()]*:$")  # Examples:, Options:, Usage:, Basic Commands (Beginner):
OPTION = re.compile(r"^    (-[A-Za-z], )?--[a-z][a-z0-9-]*=('[^']*'|\[[^\]]*\]|[a-z0-9.]+):$")  # then a tab line
# '  # comment', '  kubectl ...' (or 'cat pod.json | kubectl apply -f -', as kubectl's own), '  ' between pairs
EXAMPLE = re.compile(r"^  (# \S.*|(\S.*[ (])?kubectl \S.*|)$")
COMMAND_LINE = re.compile(r"^  (\S+) +\S")  # '  name   short description' under a heading
CLOSING = re.compile(r'^Use "[^"]+" for .+\.$')
BOXES = re.compile("[\u2500-\u257f\x1b]")  # box drawing (rich's panels) and terminal escapes


def sections(text: str) -> list:
    """(heading, [lines]) in order; the lines before the first heading go under ''."""
    found = [("", [])]
    for line in text.splitlines():
        if HEADING.match(line):
            found.append((line, []))
        else:
            found[-1][1].append(line)
    return found


def structure(text: str) -> list:
    """What is compared with kubectl: the headings in order, every line of each section checked for its shape."""
    shape = []
    for heading, lines in sections(text):
        body = [l for l in lines if l.strip()]
        if heading == "Examples:":
            assert all(EXAMPLE.match(l) for l in lines[:-1]) and lines[-1] == "", lines
        elif heading == "Options:":
            assert lines and len(lines) % 3 == 0, lines  # each option: its line, a tab and its description, a blank
            for option, described, blank in zip(lines[::3], lines[1::3], lines[2::3]):
                assert OPTION.match(option) and described.startswith("\t") and described.strip() and blank == "", option
        elif heading == "Usage:":
            assert re.match(r"^  kubectl \S", lines[0]) and lines[1] == "" and all(CLOSING.match(l) for l in lines[2:]), lines
        elif heading.endswith("Commands:") or heading.endswith("):"):
            assert all(COMMAND_LINE.match(l) for l in body) and lines[-1] == "", lines
        shape.append(heading)
    return shape


def run(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(COMMAND), *args], capture_output=True, text=True, timeout=60, **kw)


def test_the_command_under_test_is_this_tree(cli):
    where = subprocess.run([sys.executable, "-c", "import kubectl_apiinfo.cli.help as h; print(h.__file__)"],
                           capture_output=True, text=True, env=cli.env)
    assert where.stdout.strip() == str(ROOT / "kubectl_apiinfo" / "cli" / "help.py")


@pytest.fixture(scope="module")
def kubectl_help(kubectl) -> dict:
    return {words: subprocess.run([str(kubectl), *words, "--help"], capture_output=True, text=True, timeout=60).stdout
            for words in (("api-resources",), ("explain",), ())}


def test_a_command_help_has_kubectl_api_resources_layout(cli, kubectl_help):
    theirs = kubectl_help[("api-resources",)]
    ours = cli("resources", "--help").stdout
    assert structure(theirs) == structure(ours) == ["", "Examples:", "Options:", "Usage:"]
    assert sections(ours)[0][1][0] == spec.command("resources").help, "the description comes first, unwrapped"
    assert structure(kubectl_help[("explain",)]) == structure(cli("explain", "--help").stdout)
    for text in (theirs, ours):
        usage = sections(text)[-1][1]
        assert usage[0].endswith("[options]") and usage[1] == "" and CLOSING.match(usage[2]) and usage[3:] == []


def test_the_top_level_help_has_kubectl_help_layout(cli, kubectl_help):
    theirs, ours = structure(kubectl_help[()]), structure(cli("--help").stdout)
    assert ours[0] == theirs[0] == "" and ours[-1] == theirs[-1] == "Usage:"
    assert all(h.endswith("Commands:") for h in ours[1:-1])
    lines = [l for _, body in sections(cli("--help").stdout)[1:-1] for l in body if l.strip()]
    grouped = [n for _, names in help_text.GROUPS for n in names if spec.command(n)]
    others = [c.name for c in spec.COMMANDS if c.name not in grouped]  # under Other Commands, in the spec's order
    assert [COMMAND_LINE.match(l)[1] for l in lines] == grouped + others
    assert len({len(l) - len(l[2:].split(" ", 1)[1].lstrip()) for l in lines}) == 1, "one column, as cobra pads"
    assert cli("--help").stdout.endswith('Use "kubectl apiinfo <command> --help" for more information about a given command.\n')


@pytest.mark.parametrize("path,command", LEAVES, ids=IDS)
def test_every_command_has_kubectls_help(cli, path, command):
    shown = cli(*path, "--help")
    assert shown.returncode == 0 and shown.stderr == ""
    text = shown.stdout
    assert not BOXES.search(text), "plain text: no boxes, no colour"
    expected = ["", "Examples:", "Options:", "Usage:"] if any(not o.hidden for o in command.options) else ["", "Examples:", "Usage:"]
    assert structure(text) == expected
    assert text.startswith(help_text.first_sentence(command.help) + ".\n\n")
    listed = {l.split("=", 1)[0].strip() for l in sections(text)[2][1] if OPTION.match(l)} if "Options:" in expected else set()
    assert listed == {", ".join(o.names[::-1]) for o in command.options if not o.hidden}
    for o in command.options:
        if not o.hidden:
            assert f"\t{o.help}\n" in text, o.name
    assert f"  {help_text.usage(path, command)}\n" in text
    for argument in command.arguments:
        assert f"\n {argument.metavar}: {argument.help.rstrip('.')}.\n" in text.split("\nExamples:\n")[0], argument.dest
    for comment, line in examples.EXAMPLES[path]:
        assert f"  # {comment}\n  {line}\n" in text


def test_options_show_their_default_as_pflag_does():
    show = {o.name: help_text.shown_default(o) for _, c in LEAVES for o in c.options if not o.hidden}
    assert show[spec.NO_HEADERS.name] == "false" and show[spec.VERBS.name] == "[]"
    assert show[spec.REQUEST_TIMEOUT.name] == "30s" and show[spec.KUBE_VERSION.name] == "''"
    assert help_text.option_lines(spec.command("resources").option("-o")) == (
        "    -o, --output='table':\n\tOutput format. One of: (table, wide, json, yaml, name).\n")


def test_hidden_options_stay_out_of_help(cli):
    text = cli("releases", "--help").stdout
    assert spec.KUBECONFIG.name not in text and spec.CONTEXT.name not in text
    assert spec.NO_HEADERS.name in text


def test_a_group_lists_its_subcommands_as_kubectl_config_does(cli):
    for args in (["cache"], ["cache", "--help"], ["cache", "-h"]):
        shown = cli(*args)
        assert shown.returncode == 0 and structure(shown.stdout) == ["", "Available Commands:", "Usage:"]
    names = [COMMAND_LINE.match(l)[1] for l in sections(cli("cache").stdout)[1][1] if l.strip()]
    assert names == sorted(c.name for c in spec.command("cache").subcommands)


@pytest.mark.parametrize("path,command", LEAVES, ids=IDS)
def test_help_anywhere_on_the_line(cli, path, command):
    expected = cli(*path, "--help").stdout
    arguments = [a.metavar.strip("[].") for a in command.arguments if a.required]
    for args in ([*path, "-h"], ["-h", *path], [*path, *arguments, "-o", "json", "--help"] if command.option("-o") else [*path, "-h", *arguments]):
        shown = cli(*args)
        assert (shown.returncode, shown.stdout, shown.stderr) == (0, expected, ""), args
    assert cli(*path, "--", "--help").stdout != expected, "after --, a word, as in pflag"


def test_bare_and_dashed_help_are_the_top_level_help(cli):
    top = cli("--help")
    assert top.returncode == 0 and cli().stdout == cli("-h").stdout == cli("help").stdout == top.stdout
    assert cli("deployments", "-h").stdout == cli("show", "--help").stdout, "show is the default command"


def test_help_command_is_dashed_help_as_kubectl_help_is(cli):
    for words in (["resources"], ["cache"], ["cache", "list"]):
        shown = cli("help", *words)
        assert (shown.returncode, shown.stdout, shown.stderr) == (0, cli(*words, "--help").stdout, "")


def test_completion_offers_help_and_then_the_commands(tmp_path):
    from test_completion import complete

    env = clean_env(tmp_path)
    assert complete(env, "he")[0] == ["help"]
    assert complete(env, "help", "")[0] == [c.name for c in spec.COMMANDS]
    assert complete(env, "help", "cache", "")[0] == [c.name for c in spec.command("cache").subcommands]


def test_help_imports_no_typer_or_rich(cli):
    probe = ("import sys\nfrom kubectl_apiinfo.cli.main import main\nsys.argv = ['kubectl-apiinfo', 'resources', '-h']\n"
             "try:\n    main()\nexcept SystemExit as e:\n    assert e.code == 0\n"
             "sys.stderr.write('HEAVY=' + ','.join(m for m in ('typer', 'click', 'rich') if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=cli.env)
    assert result.stderr.endswith("HEAVY="), result.stderr[-300:]


def test_version_and_dashed_version_say_the_same(cli):
    assert cli("--version").stdout == cli("version").stdout != ""
    assert cli("--version").returncode == 0


# --- the examples are real --------------------------------------------------------------------------

def test_every_command_has_examples_and_every_example_a_command():
    assert set(examples.EXAMPLES) == {path for path, _ in LEAVES}
    assert all(examples.EXAMPLES[path] for path, _ in LEAVES)


def example_args(line: str) -> list:
    """The words after `kubectl apiinfo` in an example, the shell around it (| ..., $(...)) left out."""
    found = re.search(r"kubectl apiinfo ([^|)]*)", line)
    assert found, line
    args = shlex.split(found[1])
    return ["version"] if args == ["--version"] else args  # what cli/main.py makes of a lone --version


ALL_EXAMPLES = [(path, line) for path, pairs in examples.EXAMPLES.items() for _, line in pairs]


@pytest.mark.parametrize("path,line", ALL_EXAMPLES, ids=[line for _, line in ALL_EXAMPLES])
def test_every_example_reads_as_its_command_and_validates(path, line):
    parsed = router.parse(example_args(line))
    assert parsed is not None, f"not a well-formed line: {line}"
    assert parsed.path == path
    validate.complete(parsed.path, parsed.command, parsed.values)  # no contradiction, every value good


# The examples that need a cluster or cached snapshots: run against two fake API servers (the last test).
NEEDS_A_CLUSTER = {
    "kubectl apiinfo refresh", "kubectl apiinfo refresh --all-contexts", "kubectl apiinfo refresh --schemas --context prod",
    "kubectl apiinfo cache clear prod staging", "helm template ./chart | kubectl apiinfo check -f - --all-contexts",
    "kubectl apiinfo diff prod 1.33", "kubectl apiinfo scan", "kubectl apiinfo scan --all-contexts --kube-version 1.33",
    "kubectl apiinfo scan --resources deployments,ingresses --no-helm", "kubectl apiinfo plan --to 1.30 --live",
}
FINDINGS = {("check",), ("plan",), ("migrate",), ("scan",)}  # exit status 2 or 3 says what was found

DEPLOYMENT = """apiVersion: extensions/v1beta1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
"""
SERVICE = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports: [{port: 80}]\n"
WIDGET_CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, properties: {size: {type: integer}}}}}}
"""
WIDGET = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 3}\n"
AUDIT_EVENT = {
    "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "auditID": "0b8e6a52-7d41-4c1f-9e3a-000000000001",
    "stage": "ResponseComplete", "requestURI": "/apis/policy/v1beta1/podsecuritypolicies", "verb": "list",
    "user": {"username": "system:serviceaccount:ci:deployer"}, "userAgent": "helm/3.8.0", "sourceIPs": ["10.0.12.7"],
    "objectRef": {"resource": "podsecuritypolicies", "apiGroup": "policy", "apiVersion": "v1beta1"},
    "responseStatus": {"metadata": {}, "code": 200}, "requestReceivedTimestamp": "2024-05-01T10:00:00.000000Z",
    "stageTimestamp": "2024-05-01T10:00:00.000000Z",
    "annotations": {"k8s.io/deprecated": "true", "k8s.io/removed-release": "1.25"},
}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A folder with the files the examples name, and a home with no kubeconfig: the catalog answers."""
    folder = tmp_path_factory.mktemp("examples")
    (folder / "deployment.yaml").write_text(DEPLOYMENT)
    (folder / "service.yaml").write_text(SERVICE)
    (folder / "manifests" / "web").mkdir(parents=True)
    (folder / "manifests" / "web" / "deployment.yaml").write_text(DEPLOYMENT)
    (folder / "manifests" / "widget.yaml").write_text(WIDGET)
    (folder / "crds").mkdir()
    (folder / "crds" / "widgets.yaml").write_text(WIDGET_CRD)
    (folder / "audit.log").write_text(json.dumps(AUDIT_EVENT) + "\n")
    home = folder / "home"
    home.mkdir()
    bundle = run("cache", "export", "snapshots.json", cwd=folder, env=clean_env(home))  # for cache import, run alone
    assert bundle.returncode == 0, bundle.stderr
    return folder


RUNNABLE = [(path, line) for path, line in ALL_EXAMPLES if line not in NEEDS_A_CLUSTER]


def test_the_list_of_examples_not_run_names_only_examples():
    assert NEEDS_A_CLUSTER <= {line for _, line in ALL_EXAMPLES}


@pytest.mark.parametrize("path,line", RUNNABLE, ids=[line for _, line in RUNNABLE])
def test_every_example_that_needs_no_cluster_runs(cli, workspace, path, line):
    """In order, in one folder: cache export writes the bundle cache import reads; -w rewrites last."""
    result = cli(*example_args(line), cwd=workspace, timeout=180)
    allowed = (0, 2, 3) if path in FINDINGS else (0,)
    assert result.returncode in allowed, (line, result.returncode, result.stderr[-500:])
    assert "error:" not in result.stderr, result.stderr[-500:]
    assert result.stdout or result.stderr, line  # an answer, or what was done (cache, migrate -w)


def test_the_examples_that_need_a_cluster_run_against_fake_ones(cli, fake_apiserver, workspace, tmp_path):
    """The current context is prod (1.29), staging is 1.30; cache clear runs last, the others read the cache.
    `helm template ./chart |` is stood in for by the manifest on stdin."""
    use_contexts(cli, tmp_path, {"prod": fake_apiserver(release="1.29", token="t0ken"),
                                 "staging": fake_apiserver(release="1.30", token="t0ken")})
    lines = [(path, line) for path, line in ALL_EXAMPLES if line in NEEDS_A_CLUSTER]
    lines.sort(key=lambda pl: pl[0] == ("cache", "clear"))
    assert len(lines) == len(NEEDS_A_CLUSTER)
    for path, line in lines:
        result = subprocess.run([str(COMMAND), *example_args(line)], capture_output=True, text=True, timeout=180,
                                cwd=workspace, env=cli.env, input=DEPLOYMENT if " -f - " in f"{line} " else None)
        allowed = (0, 2, 3) if path in FINDINGS else (0,)
        assert result.returncode in allowed, (line, result.returncode, result.stderr[-500:])
        assert "error:" not in result.stderr, (line, result.stderr[-500:])
