"""check's values against the target's schema: invalid-value, missing-required, duplicate-key.

The real command in a subprocess, on handwritten manifests (one rule each), on the real corpus
(the errors kubernetes-validate also finds, and nothing else), and on a custom resource whose CRD
schema a fake API server serves (enum, pattern, bounds, ...).
"""

from __future__ import annotations

import json
import re
import textwrap
import time
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "manifests"
VALUE_FINDINGS = ("invalid-value", "missing-required", "duplicate-key")


def check(cli, tmp_path: Path, text: str, *args: str):
    path = tmp_path / "manifest.yaml"
    path.write_text(textwrap.dedent(text))
    result = cli("check", "-f", str(path), "--kube-version", "1.29", "-o", "json", *args)
    answer = json.loads(result.stdout) if result.stdout.startswith("{") else None
    assert answer is not None, result.stderr
    return result, answer


def values(answer: dict) -> list:
    """(finding, path) of each value finding, in order."""
    return [(f["finding"], f["path"]) for f in answer["findings"] if f["finding"] in VALUE_FINDINGS]


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: %s
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx
        ports:
        - containerPort: 80
          protocol: %s
        resources:
          limits: {cpu: %s, memory: 1Gi}
"""


def test_a_clean_deployment_has_no_value_findings(cli, tmp_path):
    result, answer = check(cli, tmp_path, DEPLOYMENT % ("3", "TCP", "500m"))
    assert (result.returncode, answer["findings"]) == (0, []), result.stderr


@pytest.mark.parametrize("replicas, protocol, cpu, expected", [
    ("'asd\"'", "TCP", "1", ("spec.replicas", "an integer (int32)", 'the string "asd\\""')),
    ("1", "22", "1", ("spec.template.spec.containers[0].ports[0].protocol", "a string", "the integer 22")),
    ("1", "TCP", "true", ("spec.template.spec.containers[0].resources.limits[cpu]", "a quantity", "the boolean true")),
    ("1", "TCP", "1.5x", ("spec.template.spec.containers[0].resources.limits[cpu]", "a quantity", 'the string "1.5x"')),
    ("1", "on", "1", ("spec.template.spec.containers[0].ports[0].protocol", "a string", "the boolean true")),  # YAML 1.1
    ("1.5", "TCP", "1", ("spec.replicas", "an integer (int32)", "the number 1.5")),
    ("3000000000", "TCP", "1", ("spec.replicas", "an integer (int32: -2147483648 to 2147483647)", "the integer 3000000000")),
])
def test_a_value_of_the_wrong_type_or_grammar_is_invalid(cli, tmp_path, replicas, protocol, cpu, expected):
    result, answer = check(cli, tmp_path, DEPLOYMENT % (replicas, protocol, cpu))
    assert result.returncode == 3, result.stderr
    [finding] = [f for f in answer["findings"] if f["finding"] == "invalid-value"]
    path, wants, given = expected
    assert finding["path"] == path
    assert finding["field"] == ".".join(p.split("[")[0] for p in path.split("."))  # explain's notation
    assert finding["wants"].startswith(wants) and finding["given"] == given
    assert finding["detail"].startswith(f"{path}: wants ")


@pytest.mark.parametrize("replicas, cpu", [("1.0", "1"), ("2", "0.5"), ("2", "1e3"), ("2", "'250m'"), ("2", "2Ki")])
def test_what_the_api_server_accepts_is_not_reported(cli, tmp_path, replicas, cpu):
    # kubectl sends YAML's 1.0 as the number 1, which an int32 takes; a quantity may be a JSON number
    result, answer = check(cli, tmp_path, DEPLOYMENT % (replicas, "TCP", cpu))
    assert (result.returncode, values(answer)) == (0, []), result.stdout


def test_required_fields_missing_or_null(cli, tmp_path):
    result, answer = check(cli, tmp_path, """\
        apiVersion: autoscaling/v2
        kind: HorizontalPodAutoscaler
        metadata: {name: h}
        spec:
          scaleTargetRef: {kind: Deployment, name: web}
          maxReplicas: null
          minReplicas: null
        ---
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: i}
        spec:
          rules:
          - http:
              paths:
              - path: /
                backend: {service: {name: web, port: {number: 80}}}
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: db}
        spec:
          selector: {matchLabels: {app: db}}
          template:
            metadata: {labels: {app: db}}
            spec:
              containers: [{image: postgres}]
        status: {replicas: null}
        """)
    assert result.returncode == 3
    assert values(answer) == [
        ("missing-required", "spec.maxReplicas"),  # minReplicas: null is optional, so unset
        ("missing-required", "spec.rules[0].http.paths[0].pathType"),
        ("missing-required", "spec.serviceName"),
        ("missing-required", "spec.template.spec.containers[0].name"),  # the top-level status is not checked
    ]
    assert answer["findings"][0]["detail"] == "spec.maxReplicas: required, and it is null"


def test_duplicate_keys_of_list_maps_count_defaults(cli, tmp_path):
    result, answer = check(cli, tmp_path, """\
        apiVersion: v1
        kind: Service
        metadata: {name: s}
        spec:
          ports:
          - {port: 80, name: a}
          - {port: 80, protocol: UDP, name: b}
          - {port: 80, protocol: TCP, name: c}
        """)
    assert values(answer) == [("duplicate-key", "spec.ports[2]")]
    assert "same key as [0] (port=80, protocol=TCP)" in answer["findings"][0]["detail"]  # protocol's default is TCP


def test_a_secrets_data_is_never_shown(cli, tmp_path):
    result, answer = check(cli, tmp_path, """\
        apiVersion: v1
        kind: Secret
        metadata: {name: s, labels: {tier: 1}}
        data: {password: hunter2-not-base64, ok: aHVudGVyMg==}
        stringData: {pin: 4711}
        """)
    assert values(answer) == [("invalid-value", "metadata.labels[tier]"), ("invalid-value", "data[password]"),
                              ("invalid-value", "stringData[pin]")]
    assert "hunter2" not in result.stdout and "4711" not in result.stdout
    data, string_data = answer["findings"][1:]
    assert data["given"] == "a string of 18 characters (value not shown)" and "base64" in data["wants"]
    assert string_data["given"] == "an integer (value not shown)"
    assert answer["findings"][0]["given"] == "the integer 1"  # a label is no secret


def test_times_int_or_strings_and_free_form_objects(cli, tmp_path):
    result, answer = check(cli, tmp_path, """\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, creationTimestamp: yesterday, annotations: {a: "1"}}
        spec:
          selector: {matchLabels: {app: web}}
          strategy: {rollingUpdate: {maxSurge: 25%, maxUnavailable: 1.5}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers: [{name: web, image: nginx}]
        ---
        apiVersion: batch/v1
        kind: Job
        metadata: {name: j, creationTimestamp: "2024-01-31T12:00:00Z"}
        spec:
          template:
            spec:
              restartPolicy: Never
              containers: [{name: j, image: busybox, args: [1, "x"]}]
        ---
        apiVersion: apps/v1
        kind: ControllerRevision
        metadata: {name: r}
        revision: 1
        data: "anything: goes, a RawExtension"
        """)
    assert values(answer) == [
        ("invalid-value", "metadata.creationTimestamp"),
        ("invalid-value", "spec.strategy.rollingUpdate.maxUnavailable"),
        ("invalid-value", "spec.template.spec.containers[0].args[0]"),
    ]
    assert "RFC 3339" in answer["findings"][0]["wants"]
    assert answer["findings"][2]["wants"] == "a string"


def test_value_findings_fail_by_default_and_can_be_let_through(cli, tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(DEPLOYMENT % ("x", "TCP", "1"))
    assert cli("check", "-f", str(path), "--kube-version", "1.29").returncode == 3
    let_through = cli("check", "-f", str(path), "--kube-version", "1.29", "--fail-on", "not-served")
    assert let_through.returncode == 0, let_through.stderr
    assert "invalid-value" in cli("check", "--help").stdout


def test_yaml_aliases_cost_the_input_not_its_expansion(cli, tmp_path):
    # ten levels of ten aliases: 10^10 containers if expanded; one walk of each (value, schema) pair
    lines = ["apiVersion: v1", "kind: List", "items:"]
    lines += ["- apiVersion: v1", "  kind: ConfigMap", "  metadata: {name: anchors}", "  data:",
              "    l0: &l0 {name: c, image: x, ports: [{containerPort: bad}]}"]
    for i in range(1, 10):
        lines.append(f"    l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    lines += ["- apiVersion: v1", "  kind: Pod", "  metadata: {name: p}", "  spec:", "    containers: *l9"]
    path = tmp_path / "aliases.yaml"
    path.write_text("\n".join(lines) + "\n")
    start = time.monotonic()
    result = cli("check", "-f", str(path), "--kube-version", "1.29", "-o", "json")
    assert time.monotonic() - start < 20
    found = [(f["kind"], f["finding"]) for f in json.loads(result.stdout)["findings"]]
    assert ("Pod", "invalid-value") in found  # a list of lists is not a container, said once


# --- the real corpus ------------------------------------------------------------------

KNOWN_AT_1_29 = {
    # kubernetes-validate --strict 1.29.0 reports each of these too (see the values README text)
    ("raw/k8s-examples-head/_archived/volumes/fibre_channel/fc.yaml", "invalid-value", "spec.volumes[0].fc.lun"),
    ("rendered/helm-stable-2019/hazelcast-jet.yaml", "missing-required", "spec.serviceName"),
    ("rendered/helm-stable-2019/nfs-client-provisioner.yaml", "missing-required", "spec.template.spec.volumes[0].nfs.server"),
    ("rendered/helm-stable-2020/nfs-client-provisioner.yaml", "missing-required", "spec.template.spec.volumes[0].nfs.server"),
    ("rendered/prometheus-community-2021/prometheus-statsd-exporter.yaml", "missing-required", "spec.rules[0].http.paths"),
}


def corpus_values(cli, release: str) -> set:
    if not CORPUS.is_dir():
        pytest.skip(f"no corpus at {CORPUS}")
    result = cli("check", "-f", str(CORPUS), "-R", "--kube-version", release, "-o", "json", cwd=CORPUS, timeout=120)
    answer = json.loads(result.stdout)
    return {(str(Path(f["file"]).resolve().relative_to(CORPUS)), f["finding"], f["path"], f["kind"])
            for f in answer["findings"] if f["finding"] in VALUE_FINDINGS}


def test_the_corpus_at_1_29_has_exactly_the_known_value_errors(cli):
    found = corpus_values(cli, "1.29")
    # every other chart of the corpus that 1.29 serves stays clean
    assert {f[:3] for f in found if f[3] != "PrometheusRule"} == KNOWN_AT_1_29
    # The corpus is one stream, holding kube-prometheus-stack's CRDs: other charts' PrometheusRules are read
    # against them, and a rule list a template left empty is refused as the API server would (a null spec is
    # pruned, then missing), which kubernetes-validate, having no CRD schemas, cannot see.
    custom = {f[:3] for f in found if f[3] == "PrometheusRule"}
    assert ("rendered/bitnami-2021/nginx-ingress-controller.yaml", "missing-required", "spec") in custom
    assert ("rendered/helm-stable-2019/airflow.yaml", "invalid-value", "spec.groups") in custom
    for file, _, path in custom:
        text = (CORPUS / file).read_text()
        assert "kind: PrometheusRule" in text
        assert path != "spec" or re.search(r"kind: PrometheusRule\n(?:.*\n)*?spec:\n(?:---|\Z)", text), (file, path)


def test_the_corpus_at_1_22_has_the_null_max_replicas_of_hpas(cli):
    found = corpus_values(cli, "1.22")
    for chart in ("rendered/bitnami-2021/nginx.yaml", "rendered/helm-stable-2019/traefik.yaml", "rendered/helm-stable-2020/traefik.yaml"):
        assert (chart, "missing-required", "spec.maxReplicas", "HorizontalPodAutoscaler") in found


# --- a custom resource, its schema served by a cluster ----------------------------------

WIDGET_SPEC = {
    "type": "object",
    "required": ["size"],
    "properties": {
        "size": {"type": "string", "enum": ["small", "medium", "large"]},
        "replicas": {"type": "integer", "minimum": 1, "maximum": 10},
        "ratio": {"type": "number", "minimum": 0, "exclusiveMinimum": True},
        "name": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 8},
        "id": {"type": "string", "format": "uuid"},
        "owner": {"type": "string", "nullable": True},
        "port": {"x-kubernetes-int-or-string": True},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2, "x-kubernetes-list-type": "set"},
        "labels": {"type": "object", "additionalProperties": {"type": "integer"}, "maxProperties": 2},
        "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        "mode": {"type": "string", "default": "auto"},
        "limits": {"type": "object", "required": ["mode"], "properties": {"mode": {"type": "string", "default": "soft"}}},
    },
}
CLEAN_WIDGET = {"size": "small", "replicas": 3, "ratio": 0.5, "name": "abc", "id": "123e4567-e89b-12d3-a456-426614174000",
                "owner": None, "port": "http", "tags": ["a", "b"], "labels": {"a": 1}, "config": {"any": ["thing"]}, "limits": {}}


@pytest.fixture
def widget_server(fake_apiserver, tmp_path, cli):
    server = fake_apiserver(release="1.33", crd_groups=1, token="s3cret", widget_spec=WIDGET_SPEC)
    cli.env["KUBECONFIG"] = str(server.write_kubeconfig(tmp_path / "kubeconfig"))
    return server


def test_a_custom_resource_is_held_to_its_crd_schema(cli, widget_server, tmp_path):
    bad = {"size": "huge", "replicas": 11, "ratio": 0, "name": "Abc", "id": "not-a-uuid", "owner": None, "port": 1.5,
           "tags": ["a", "a", "b"], "labels": {"a": "1", "b": 2, "c": 3}, "config": "text"}
    objects = [{"apiVersion": "g0001.example.com/v1", "kind": "Widget", "metadata": {"name": name}, "spec": spec}
               for name, spec in (("clean", CLEAN_WIDGET), ("bad", bad), ("empty", {"size": None}))]
    path = tmp_path / "widgets.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
    result = cli("check", "-f", str(path), "-o", "json")
    assert result.returncode == 3, result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert not [f for f in findings if f["name"] == "clean"]
    bad_found = {f["path"]: f for f in findings if f["name"] == "bad"}
    assert {p: f["finding"] for p, f in bad_found.items()} == {
        "spec.size": "invalid-value", "spec.replicas": "invalid-value", "spec.ratio": "invalid-value",
        "spec.name": "invalid-value", "spec.id": "invalid-value", "spec.port": "invalid-value",
        "spec.tags": "invalid-value", "spec.tags[1]": "duplicate-key", "spec.labels[a]": "invalid-value",
        "spec.labels": "invalid-value", "spec.config": "invalid-value",
    }
    assert bad_found["spec.size"]["wants"] == 'one of "small", "medium", "large"'
    assert bad_found["spec.replicas"]["wants"] == "a number at most 10"
    assert bad_found["spec.ratio"]["wants"] == "a number above 0"
    assert bad_found["spec.name"]["wants"] == "a string matching ^[a-z]+$"
    assert bad_found["spec.tags"]["wants"] == "a list of at most 2 items"
    assert bad_found["spec.labels"]["wants"] == "at most 2 keys"
    assert bad_found["spec.port"]["wants"] == "an integer or a string"
    # a null on a required field is missing; limits.mode has a default apiextensions fills in
    assert [(f["finding"], f["path"]) for f in findings if f["name"] == "empty"] == [("missing-required", "spec.size")]
