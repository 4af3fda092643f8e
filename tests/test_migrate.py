"""migrate: objects a release would not serve rewritten to what it serves, with the upstream conversions, comments
kept; checked by check itself, by a real kubectl, and on the shared corpus of real manifests."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import yaml

from conftest import assert_one_line_error

INGRESS = """\
# The front door: served by nginx
apiVersion: extensions/v1beta1
kind: Ingress
metadata:
  name: web  # the site
  annotations:
    kubernetes.io/ingress.class: "nginx"
spec:
  backend:
    serviceName: fallback
    servicePort: 80
  rules:
  - host: example.com
    http:
      paths:
      # everything goes to the app
      - path: /
        backend:
          serviceName: web   # the app
          servicePort: http
"""

SERVICE = """\
apiVersion: v1
kind: Service
metadata:   {name: web}   # flow style, odd spacing: left byte for byte
spec:
  ports: [{port: 80, name: 'http'}]
"""


def _migrate(cli, *args, **kwargs):
    return cli("migrate", *args, **kwargs)


def test_the_done_when_ingress_keeps_its_comments_passes_check_and_kubectl(cli, tmp_path, fake_apiserver, kubectl):
    source = tmp_path / "ingress.yaml"
    source.write_text(INGRESS + "---\n" + SERVICE)
    result = _migrate(cli, "-f", str(source), "--kube-version", "1.22")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    ingress, service = out.split("---\n")
    assert service == SERVICE  # a served object is left byte for byte
    for comment in ("# The front door: served by nginx", "# the site", "# everything goes to the app", "# the app"):
        assert comment in ingress
    assert '"nginx"' in ingress  # quoting kept
    obj = yaml.safe_load(ingress)
    assert obj["apiVersion"] == "networking.k8s.io/v1"
    assert obj["spec"]["defaultBackend"] == {"service": {"name": "fallback", "port": {"number": 80}}}
    [path] = obj["spec"]["rules"][0]["http"]["paths"]
    assert path == {"path": "/", "pathType": "ImplementationSpecific",
                    "backend": {"service": {"name": "web", "port": {"name": "http"}}}}
    assert list(obj) == ["apiVersion", "kind", "metadata", "spec"]
    assert "extensions/v1beta1 -> networking.k8s.io/v1" in result.stderr

    migrated = tmp_path / "migrated.yaml"
    migrated.write_text(out)
    checked = cli("check", "-f", str(migrated), "--kube-version", "1.22", "-o", "json")
    assert checked.returncode == 0, checked.stdout
    assert json.loads(checked.stdout)["findings"] == []

    api = fake_apiserver(release="1.22", token="s3cret")
    kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
    applied = subprocess.run([str(kubectl), "--kubeconfig", str(kubeconfig), "apply", "--dry-run=client",
                              "--validate=false", "-o", "yaml", "-f", str(migrated)],
                             capture_output=True, text=True, timeout=60)
    assert applied.returncode == 0, applied.stderr
    assert "apiVersion: networking.k8s.io/v1" in applied.stdout and "ImplementationSpecific" in applied.stdout
    # the original is what kubectl refuses there: the test can fail
    refused = subprocess.run([str(kubectl), "--kubeconfig", str(kubeconfig), "apply", "--dry-run=client",
                              "--validate=false", "-o", "yaml", "-f", str(source)],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "extensions/v1beta1" in refused.stderr


HPA = """\
apiVersion: autoscaling/v2beta2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 5
  metrics:
  - type: Resource
    resource:
      name: cpu
      target: {type: Utilization, averageUtilization: 60}
"""

HPA_V2BETA1 = """\
apiVersion: autoscaling/v2beta1
kind: HorizontalPodAutoscaler
metadata:
  name: old
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 5
  metrics:
  - type: Resource
    resource:
      name: cpu
      targetAverageUtilization: 60  # percent
  - type: Pods
    pods:
      metricName: requests
      targetAverageValue: 10
  - type: Object
    object:
      target: {apiVersion: v1, kind: Service, name: web}
      metricName: hits
      targetValue: 100
  - type: Object
    object:
      target: {apiVersion: v1, kind: Service, name: web}
      metricName: per-pod
      targetValue: 0
      averageValue: 5
  - type: External
    external:
      metricName: queue
      metricSelector: {matchLabels: {queue: jobs}}
      targetAverageValue: 30
"""


def test_hpa_v2beta2_and_v2beta1_become_v2_with_metric_targets(cli, tmp_path):
    source = tmp_path / "hpa.yaml"
    source.write_text(HPA + "---\n" + HPA_V2BETA1)
    result = _migrate(cli, "-f", str(source), "--kube-version", "1.26")
    assert result.returncode == 0, result.stderr
    new, old = list(yaml.safe_load_all(result.stdout))
    assert new["apiVersion"] == old["apiVersion"] == "autoscaling/v2"
    assert new["spec"]["metrics"] == yaml.safe_load(HPA)["spec"]["metrics"]
    assert old["spec"]["metrics"] == [
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}}},
        {"type": "Pods", "pods": {"metric": {"name": "requests"}, "target": {"type": "AverageValue", "averageValue": 10}}},
        {"type": "Object", "object": {"describedObject": {"apiVersion": "v1", "kind": "Service", "name": "web"},
                                      "metric": {"name": "hits"}, "target": {"type": "Value", "value": 100}}},
        {"type": "Object", "object": {"describedObject": {"apiVersion": "v1", "kind": "Service", "name": "web"},
                                      "metric": {"name": "per-pod"},
                                      "target": {"type": "AverageValue", "value": 0, "averageValue": 5}}},
        {"type": "External", "external": {"metric": {"name": "queue", "selector": {"matchLabels": {"queue": "jobs"}}},
                                          "target": {"type": "AverageValue", "averageValue": 30}}},
    ]
    assert "# percent" in result.stdout
    migrated = tmp_path / "out.yaml"
    migrated.write_text(result.stdout)
    checked = cli("check", "-f", str(migrated), "--kube-version", "1.26", "-o", "json")
    assert json.loads(checked.stdout)["findings"] == [] and checked.returncode == 0


DEPLOYMENT = """\
apiVersion: extensions/v1beta1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  rollbackTo: {revision: 1}
  template:
    metadata:
      labels: {app: web, tier: front}
    spec:
      containers:
      - name: web
        image: nginx
"""


def test_a_deployment_without_a_selector_gets_its_template_labels_with_a_note(cli, tmp_path):
    source = tmp_path / "deploy.yaml"
    source.write_text(DEPLOYMENT)
    result = _migrate(cli, "-f", str(source), "--kube-version", "1.16")
    assert result.returncode == 0, result.stderr
    obj = yaml.safe_load(result.stdout)
    assert obj["apiVersion"] == "apps/v1"
    assert obj["spec"]["selector"] == {"matchLabels": {"app": "web", "tier": "front"}}
    assert list(obj["spec"]) == ["replicas", "selector", "template"]  # rollbackTo has no apps/v1 field
    assert "spec.selector was absent" in result.stderr and "app=web, tier=front" in result.stderr
    assert "rollbackTo has no apps/v1 field" in result.stderr


CRD = """\
apiVersion: apiextensions.k8s.io/v1beta1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  version: v1
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  # the schema of every version
  validation:
    openAPIV3Schema:
      properties:
        spec:
          properties:
            size: {type: integer}
            tags:
              items: {type: string}
  subresources:
    status: {}
  additionalPrinterColumns:
  - name: Size
    type: integer
    JSONPath: .spec.size
  preserveUnknownFields: false
"""


def test_a_v1beta1_crd_becomes_v1_with_its_schema_columns_and_subresources_in_each_version(cli, tmp_path):
    source = tmp_path / "crd.yaml"
    source.write_text(CRD)
    result = _migrate(cli, "-f", str(source), "--kube-version", "1.22")
    assert result.returncode == 0, result.stderr
    obj = yaml.safe_load(result.stdout)
    assert obj["apiVersion"] == "apiextensions.k8s.io/v1"
    assert "validation" not in obj["spec"] and "version" not in obj["spec"] and "preserveUnknownFields" not in obj["spec"]
    [version] = obj["spec"]["versions"]
    assert version["name"] == "v1" and version["served"] is True and version["storage"] is True
    assert version["schema"]["openAPIV3Schema"]["type"] == "object"
    spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert spec["type"] == "object" and spec["properties"]["size"] == {"type": "integer"}
    assert spec["properties"]["tags"] == {"type": "array", "items": {"type": "string"}}  # structural, as v1 wants
    assert "type written on 2 schema nodes" in result.stderr
    assert version["subresources"] == {"status": {}}
    assert version["additionalPrinterColumns"] == [{"name": "Size", "type": "integer", "jsonPath": ".spec.size"}]
    assert "# the schema of every version" in result.stdout
    migrated = tmp_path / "out.yaml"
    migrated.write_text(result.stdout)
    checked = cli("check", "-f", str(migrated), "--kube-version", "1.22", "-o", "json")
    assert json.loads(checked.stdout)["findings"] == [] and checked.returncode == 0


def test_a_helm_template_is_reported_with_the_change_not_rewritten(cli, tmp_path):
    chart = tmp_path / "templates"
    chart.mkdir()
    template = chart / "ingress.yaml"
    text = "{{- if .Values.ingress.enabled }}\napiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n" \
           "  name: {{ .Release.Name }}\nspec:\n  backend:\n    serviceName: {{ .Release.Name }}\n    servicePort: 80\n{{- end }}\n"
    template.write_text(text)
    result = _migrate(cli, "-w", "-f", str(template), "--kube-version", "1.22")
    assert result.returncode == 3
    assert template.read_text() == text
    [line] = [w for w in result.stderr.splitlines() if w.startswith("warning:")]
    assert f"{template}:2: a Helm template, not rewritten" in line
    assert "apiVersion: extensions/v1beta1 -> apiVersion: networking.k8s.io/v1" in line
    assert "service.port.number" in line and "pathType: ImplementationSpecific" in line
    assert line.endswith("(lines 7 (backend), 8 (serviceName), 9 (servicePort))")

    rendered = tmp_path / "rendered.yaml"  # a rendered chart's '{{' live in its strings: it is rewritten
    rendered.write_text("# Source: chart/templates/ingress.yaml\n" + INGRESS.split("\n", 1)[1].replace(
        "  annotations:\n", "  annotations:\n    summary: 'Instance {{ $labels.instance }} down'\n"))
    result = _migrate(cli, "-f", str(rendered), "--kube-version", "1.22")
    assert result.returncode == 0, result.stderr
    assert "apiVersion: networking.k8s.io/v1" in result.stdout
    assert "    summary: 'Instance {{ $labels.instance }} down'\n" in result.stdout


def test_write_replaces_whole_files_and_diff_prints_a_unified_diff(cli, tmp_path):
    first, second, served = tmp_path / "a.yaml", tmp_path / "b.yaml", tmp_path / "c.yaml"
    first.write_text(INGRESS)
    second.write_text(DEPLOYMENT + "---\n" + SERVICE)
    served.write_text(SERVICE)
    before = served.stat().st_mtime_ns
    diff = _migrate(cli, "--diff", "-f", str(tmp_path), "--kube-version", "1.22")
    assert diff.returncode == 0, diff.stderr
    assert f"--- a/{str(first).lstrip('/')}\n+++ b/{str(first).lstrip('/')}\n" in diff.stdout
    assert "-apiVersion: extensions/v1beta1\n+apiVersion: networking.k8s.io/v1\n" in diff.stdout
    assert "+apiVersion: apps/v1\n" in diff.stdout and str(served) not in diff.stdout
    assert first.read_text() == INGRESS  # --diff writes nothing

    written = _migrate(cli, "-w", "-f", str(tmp_path), "--kube-version", "1.22")
    assert written.returncode == 0 and written.stdout == "", written.stderr
    assert yaml.safe_load(first.read_text())["apiVersion"] == "networking.k8s.io/v1"
    docs = second.read_text().split("---\n")
    assert yaml.safe_load(docs[0])["apiVersion"] == "apps/v1" and docs[1] == SERVICE
    assert served.stat().st_mtime_ns == before and served.read_text() == SERVICE
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left behind
    again = _migrate(cli, "--diff", "-f", str(tmp_path), "--kube-version", "1.22")
    assert again.returncode == 0 and again.stdout == ""


def test_no_replacement_is_reported_and_fails_and_usage_errors_are_one_line(cli, tmp_path):
    psp = tmp_path / "psp.yaml"
    psp.write_text("apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: restricted}\nspec: {}\n")
    result = _migrate(cli, "-f", str(psp), "--kube-version", "1.25")
    assert result.returncode == 3 and result.stdout == psp.read_text()
    assert "PodSecurityPolicy restricted" in result.stderr and "nothing to migrate it to" in result.stderr
    newer = tmp_path / "newer.yaml"  # an API newer than the target is not moved back: the conversions go forward
    newer.write_text("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\nspec: {}\n")
    result = _migrate(cli, "-f", str(newer), "--kube-version", "1.18")
    assert result.returncode == 3 and result.stdout == newer.read_text()
    assert "is not served yet in 1.18" in result.stderr and "newer APIs only" in result.stderr
    typo = tmp_path / "typo.yaml"  # a migrated object is checked: what is left to fix by hand is said, exit 3
    typo.write_text("apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: {name: pdb}\n"
                    "spec: {enabled: true, minAvailable: 1, selector: {matchLabels: {app: web}}}\n")
    result = _migrate(cli, "-f", str(typo), "--kube-version", "1.25")
    assert result.returncode == 3 and "apiVersion: policy/v1\n" in result.stdout
    assert f"{typo}:1: PodDisruptionBudget pdb as migrated: unknown-field: spec.enabled" in result.stderr
    assert_one_line_error(_migrate(cli, "-f", "-", "-w", "--kube-version", "1.25"), "--write", "stdin")
    assert_one_line_error(_migrate(cli, "-f", str(psp)), "--kube-version")
    assert_one_line_error(_migrate(cli, "-f", str(psp), "-w", "--diff", "--kube-version", "1.25"), "--write", "--diff")


MANY = """\
apiVersion: batch/v1beta1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: job, image: busybox}]
---
apiVersion: policy/v1beta1
kind: PodDisruptionBudget
metadata: {name: all}
spec:
  minAvailable: 1
  selector: {}
---
apiVersion: extensions/v1beta1
kind: NetworkPolicy
metadata: {name: deny}
spec:
  podSelector: {}
---
apiVersion: rbac.authorization.k8s.io/v1beta1
kind: ClusterRole
metadata: {name: reader}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get]
---
apiVersion: storage.k8s.io/v1beta1
kind: StorageClass
metadata: {name: fast}
provisioner: example.com/fast
---
apiVersion: scheduling.k8s.io/v1beta1
kind: PriorityClass
metadata: {name: high}
value: 1000
---
apiVersion: storage.k8s.io/v1beta1
kind: CSIDriver
metadata: {name: csi.example.com}
spec: {attachRequired: false}
---
apiVersion: discovery.k8s.io/v1beta1
kind: EndpointSlice
metadata: {name: web-abc}
addressType: IPv4
endpoints:
- addresses: ["10.0.0.1"]
  topology:
    kubernetes.io/hostname: node-1
    topology.kubernetes.io/zone: zone-a
---
apiVersion: flowcontrol.apiserver.k8s.io/v1beta1
kind: PriorityLevelConfiguration
metadata: {name: batch}
spec:
  type: Limited
  limited:
    assuredConcurrencyShares: 10
    limitResponse: {type: Reject}
---
apiVersion: admissionregistration.k8s.io/v1beta1
kind: ValidatingWebhookConfiguration
metadata: {name: guard}
webhooks:
- name: guard.example.com
  clientConfig:
    service: {namespace: default, name: guard}
  rules:
  - apiGroups: [""]
    apiVersions: [v1]
    operations: [CREATE]
    resources: [pods]
---
apiVersion: events.k8s.io/v1beta1
kind: Event
metadata: {name: e1, namespace: default}
eventTime: "2024-01-01T00:00:00.000000Z"
reportingController: example.com/c
reportingInstance: c-1
action: Tested
reason: Test
type: Normal
regarding: {kind: Pod, name: p, namespace: default}
---
apiVersion: node.k8s.io/v1beta1
kind: RuntimeClass
metadata: {name: gvisor}
handler: runsc
"""


def test_apiversion_moves_and_the_small_conversions_pass_check(cli, tmp_path):
    """CronJob, PDB (its empty selector noted), NetworkPolicy, RBAC, storage, scheduling, CSIDriver, EndpointSlice,
    flowcontrol (past v1beta3, which 1.29 deprecates, to v1), a v1beta1 webhook, Event and RuntimeClass (whose
    lifecycle facts name no replacement: the version 1.29 serves for the kind)."""
    source = tmp_path / "many.yaml"
    source.write_text(MANY)
    result = _migrate(cli, "-f", str(source), "--kube-version", "1.29")
    assert result.returncode == 0, result.stderr
    docs = {d["kind"]: d for d in yaml.safe_load_all(result.stdout)}
    assert {k: d["apiVersion"] for k, d in docs.items()} == {
        "CronJob": "batch/v1", "PodDisruptionBudget": "policy/v1", "NetworkPolicy": "networking.k8s.io/v1",
        "ClusterRole": "rbac.authorization.k8s.io/v1", "StorageClass": "storage.k8s.io/v1",
        "PriorityClass": "scheduling.k8s.io/v1", "CSIDriver": "storage.k8s.io/v1",
        "EndpointSlice": "discovery.k8s.io/v1", "PriorityLevelConfiguration": "flowcontrol.apiserver.k8s.io/v1",
        "ValidatingWebhookConfiguration": "admissionregistration.k8s.io/v1", "Event": "events.k8s.io/v1",
        "RuntimeClass": "node.k8s.io/v1",
    }
    [endpoint] = docs["EndpointSlice"]["endpoints"]
    assert "topology" not in endpoint and endpoint["deprecatedTopology"]["topology.kubernetes.io/zone"] == "zone-a"
    assert endpoint["zone"] == "zone-a" and endpoint["nodeName"] == "node-1"
    assert docs["PriorityLevelConfiguration"]["spec"]["limited"]["nominalConcurrencyShares"] == 10
    [hook] = docs["ValidatingWebhookConfiguration"]["webhooks"]
    assert hook["admissionReviewVersions"] == ["v1beta1"] and hook["sideEffects"] == "None"
    assert (hook["failurePolicy"], hook["matchPolicy"], hook["timeoutSeconds"]) == ("Ignore", "Exact", 30)
    assert "in policy/v1 it selects every pod of the namespace" in result.stderr
    assert "sideEffects was Unknown" in result.stderr
    migrated = tmp_path / "out.yaml"
    migrated.write_text(result.stdout)
    checked = cli("check", "-f", str(migrated), "--kube-version", "1.29", "-o", "json")
    assert json.loads(checked.stdout)["findings"] == [] and checked.returncode == 0


def test_a_move_of_apiversion_alone_changes_that_line_alone_and_a_rewrite_keeps_the_indentation(cli, tmp_path):
    role = ("apiVersion: 'rbac.authorization.k8s.io/v1beta1'   # old\nkind: ClusterRole\nmetadata:\n"
            "    name: odd   \nrules:\n  - apiGroups: [\"\"]\n    resources:   [pods]\n    verbs:\n    - get\n")
    deployment = ("apiVersion: apps/v1beta1\nkind: Deployment\nmetadata:\n    name: four\nspec:\n    template:\n"
                  "        metadata:\n            labels:\n                app: four\n        spec:\n"
                  "            containers:\n              - name: c\n                image: busybox\n")
    source = tmp_path / "layout.yaml"
    source.write_text(role + "---\n" + deployment)
    result = _migrate(cli, "-f", str(source), "--kube-version", "1.22")
    assert result.returncode == 0, result.stderr
    moved_role, moved_deployment = result.stdout.split("---\n")
    assert moved_role == role.replace("rbac.authorization.k8s.io/v1beta1", "rbac.authorization.k8s.io/v1")
    assert moved_deployment == deployment.replace("apps/v1beta1", "apps/v1").replace(
        "spec:\n    template:", "spec:\n    selector:\n        matchLabels:\n            app: four\n    template:")


def test_json_lists_and_stdin(cli, tmp_path):
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "extensions/v1beta1", "kind": "NetworkPolicy", "metadata": {"name": "deny"},
         "spec": {"podSelector": {}}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}]}, indent=4) + "\n")
    result = _migrate(cli, "-f", str(listed), "--kube-version", "1.22")
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)["items"]
    assert [i["apiVersion"] for i in items] == ["networking.k8s.io/v1", "v1"]
    assert '\n    "items": [\n' in result.stdout  # its indentation kept

    stream = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: batch/v1beta1\n  kind: CronJob  # nightly\n" \
             "  metadata: {name: n}\n  spec: {schedule: '@daily', jobTemplate: {spec: {template: {spec: " \
             "{containers: [{name: c, image: busybox}], restartPolicy: Never}}}}}\n"
    piped = subprocess.run([*_command(), "migrate", "-f", "-", "--kube-version", "1.25"], input=stream,
                           capture_output=True, text=True, env=cli.env, timeout=60)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == stream.replace("batch/v1beta1", "batch/v1")
    assert "<stdin>:1: CronJob n: batch/v1beta1 -> batch/v1" in piped.stderr


def _command() -> list:
    from conftest import COMMAND

    return [str(COMMAND)]


# --- the shared corpus --------------------------------------------------------------------------------

_BLOCKING = ("not-served", "unknown-field", "missing-required")


def _path(finding: dict) -> str:
    """The field a finding is about, with a CRD's schema path read from openAPIV3Schema on (v1beta1's validation
    and v1's versions[].schema hold the same schema)."""
    field = finding["detail"].split()[0].rstrip(":")
    at = field.find("openAPIV3Schema")
    return field[at:] if at >= 0 else field


def _keyed(findings: list, root) -> set:
    return {(f["file"].replace(str(root), ""), f["kind"], f["namespace"], f["name"], f["finding"], _path(f))
            for f in findings if f["finding"] in _BLOCKING}


def test_every_object_of_the_shared_corpus_that_1_25_does_not_serve_migrates_to_what_check_passes(
        cli, tmp_path, shared_manifests):
    """Every file of the shared manifests (the raw examples and the rendered charts), migrated for 1.25 with -w in a
    copy: each migrated object passes check --kube-version 1.25 but for what its original already had (a chart's
    own typo, a null it rendered), as check of the original against 1.15, the release the oldest were rendered for,
    finds it; ObjectMeta is the same type in every group and is not converted."""
    copy = tmp_path / "corpus"
    shutil.copytree(shared_manifests, copy, ignore=shutil.ignore_patterns("*.tsv", "*.md"))
    result = _migrate(cli, "-w", "-R", "-f", str(copy), "--kube-version", "1.25", timeout=600)
    assert result.returncode == 3, result.stderr  # PodSecurityPolicies and Helm templates are left
    moved = re.findall(r"^\S+:\d+: (\S+) (\S+): \S+ -> (\S+)$", result.stderr, re.M)
    assert len(moved) > 800, result.stderr[-2000:]
    migrated = {(api_version, kind, name) for kind, name, api_version in moved}
    left = [w for w in result.stderr.splitlines() if w.startswith("warning:")]
    assert all("PodSecurityPolicy" in w or "Helm template" in w or "no kind" in w or "nothing to migrate" in w
               or "not rewritten" in w or "as migrated" in w for w in left), left

    after = cli("check", "-R", "-f", str(copy), "--kube-version", "1.25", "-o", "json", timeout=600)
    findings = [f for f in json.loads(after.stdout)["findings"]
                if (f["apiVersion"], f["kind"], f["namespace"] + "/" + f["name"] if f["namespace"] else f["name"])
                in migrated]
    assert not [f for f in findings if f["finding"] == "not-served"]
    before = cli("check", "-R", "-f", str(shared_manifests), "--kube-version", "1.15", "-o", "json", timeout=600)
    had = _keyed(json.loads(before.stdout)["findings"], shared_manifests)
    new = [f for f in findings if f["finding"] in _BLOCKING and not _path(f).startswith("metadata.")
           and next(iter(_keyed([f], copy))) not in had]
    assert new == []


def test_an_object_a_conversion_cannot_read_is_left_as_it_is_and_said_in_one_line(cli, tmp_path):
    """A field of the wrong type (a number where the CRD's versions list belongs) is no traceback and no half-rewritten
    object: that document stays byte for byte, the others are migrated, and the exit status says something is left."""
    crd = ("apiVersion: apiextensions.k8s.io/v1beta1\nkind: CustomResourceDefinition\nmetadata: {name: a}\n"
           "spec: {validation: 3, versions: 4, additionalPrinterColumns: [5]}\n")
    role = "apiVersion: rbac.authorization.k8s.io/v1beta1\nkind: Role\nmetadata: {name: r}\nrules: []\n"
    path = tmp_path / "mixed.yaml"
    path.write_text(crd + "---\n" + role)
    result = cli("migrate", "-f", str(path), "--kube-version", "1.22")
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr
    assert result.stdout.startswith(crd) and "rbac.authorization.k8s.io/v1\n" in result.stdout
    [said] = [line for line in result.stderr.splitlines() if "CustomResourceDefinition a" in line]
    assert "not migrated" in said and "apiextensions.k8s.io/v1beta1" in said
    as_json = tmp_path / "crd.json"
    as_json.write_text(json.dumps(yaml.safe_load(crd), indent=2) + "\n")
    before = as_json.read_text()
    result = cli("migrate", "-f", str(as_json), "--kube-version", "1.22", "-w")
    assert result.returncode == 3 and "not migrated" in result.stderr and "Traceback" not in result.stderr
    assert as_json.read_text() == before
