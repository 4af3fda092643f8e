"""check evaluates the CEL rules of CRDs (x-kubernetes-validations) with cel-expr-python, where it can."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kubectl_apiinfo.sources.openapi import schema_form

IMAGE_UPDATER = "rendered/argo-helm-head/argocd-image-updater.yaml"

CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: scalers.example.com}
spec:
  group: example.com
  names: {kind: Scaler, plural: scalers}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-validations:
        - rule: "self.metadata.name.startsWith('s-') && !has(self.metadata.labels)"
          message: names start with s-
        properties:
          spec:
            type: object
            x-kubernetes-validations:
            - rule: self.minReplicas <= self.maxReplicas
              message: minReplicas must not exceed maxReplicas
            - rule: "!has(self.mode) || self.mode != 'off' || self.maxReplicas == 0"
              messageExpression: "'mode off wants maxReplicas 0, not ' + string(self.maxReplicas)"
              fieldPath: .maxReplicas
              reason: FieldValueForbidden
            - rule: "!has(self.max__dash__surge) || self.max__dash__surge < 10.5"
            - rule: "!has(self.window) || self.window.lowerAscii().endsWith('s')"
              message: windows are in seconds
            properties:
              minReplicas: {type: integer, default: 1}
              maxReplicas: {type: integer}
              mode: {type: string}
              max-surge: {type: number}
              window: {type: string}
              labels:
                type: object
                additionalProperties: {type: string}
                x-kubernetes-validations:
                - {rule: "self.all(k, size(k) < 10)", message: label keys are short}
              ports:
                type: array
                items: {type: integer}
                x-kubernetes-validations:
                - {rule: "self.all(p, p > 0)", message: ports are positive}
"""

SCALERS = """\
apiVersion: example.com/v1
kind: Scaler
metadata: {name: s-good, labels: {team: a}}
spec: {minReplicas: 1, maxReplicas: 3, max-surge: 2, window: 30S, labels: {a: b}, ports: [80]}
---
apiVersion: example.com/v1
kind: Scaler
metadata: {name: bad}
spec: {minReplicas: 5, maxReplicas: 3, mode: "off", max-surge: 11, window: 1m, labels: {averyveryverylongkey: b}, ports: [0]}
---
apiVersion: example.com/v1
kind: Scaler
metadata: {name: s-defaulted}
spec: {maxReplicas: 0, mode: null}
"""

UNSUPPORTED = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  names: {kind: Gadget, plural: gadgets}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-validations:
            - rule: "quantity(self.memory).isGreaterThan(quantity('1Mi'))"
            - rule: self.tags.isSorted()
            - {rule: self.size >= oldSelf.size, message: size only grows}
            - {rule: "!oldSelf.hasValue() || self.size >= oldSelf.value().size", optionalOldSelf: true}
            - {rule: "self.tags.all(a, self.tags.all(b, self.tags.all(c, a + b + c != '')))", message: hostile}
            - {rule: self.size < 100, message: small}
            properties:
              memory: {type: string}
              size: {type: integer}
              tags: {type: array, items: {type: string}}
"""


def _gadget(name: str, size: int, tags: int) -> str:
    listed = ", ".join(f"t{i}" for i in range(tags))
    return f"apiVersion: example.com/v1\nkind: Gadget\nmetadata: {{name: {name}}}\nspec: {{memory: 2Gi, size: {size}, tags: [{listed}]}}\n"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _check(cli, path: Path, *extra: str):
    result = cli("check", "-f", str(path), "--kube-version", "1.33", "-o", "json", *extra)
    assert result.returncode in (0, 3), result.stderr
    return result, json.loads(result.stdout)


def _rule_findings(answer: dict) -> list:
    return [(f["name"], f["field"], f["message"]) for f in answer["findings"] if "celRule" in f]


needs_cel = pytest.mark.skipif(sys.version_info < (3, 11), reason="cel-expr-python needs Python 3.11+")


@needs_cel
def test_rules_that_fail_give_invalid_value_with_their_message_and_field_path(cli, tmp_path):
    pytest.importorskip("cel_expr_python")
    result, answer = _check(cli, _write(tmp_path, "scalers.yaml", CRD + "---\n" + SCALERS))
    assert _rule_findings(answer) == [
        ("bad", "", "names start with s-"),
        ("bad", "spec", "minReplicas must not exceed maxReplicas"),
        ("bad", "spec.maxReplicas", "mode off wants maxReplicas 0, not 3"),  # messageExpression, at the fieldPath
        ("bad", "spec", "failed rule: !has(self.max__dash__surge) || self.max__dash__surge < 10.5"),
        ("bad", "spec", "windows are in seconds"),
        ("bad", "spec.labels", "label keys are short"),
        ("bad", "spec.ports", "ports are positive"),
        ("s-defaulted", "spec", "minReplicas must not exceed maxReplicas"),  # minReplicas defaulted to 1
    ]
    forbidden = [f for f in answer["findings"] if f.get("reason") == "FieldValueForbidden"]
    assert [f["detail"] for f in forbidden] == [
        "spec.maxReplicas: mode off wants maxReplicas 0, not 3 (rule: !has(self.mode) || self.mode != 'off' || self.maxReplicas == 0)"]
    assert {f["finding"] for f in answer["findings"]} == {"invalid-value"}
    assert result.returncode == 3 and "CEL" not in result.stderr


@needs_cel
def test_rules_it_cannot_evaluate_are_said_once_per_crd_and_never_fail(cli, tmp_path):
    pytest.importorskip("cel_expr_python")
    objects = "---\n".join(_gadget(f"g{i}", 5, 30) for i in range(3))  # 30 tags: the hostile rule needs 27,000 turns
    started = time.monotonic()
    result, answer = _check(cli, _write(tmp_path, "gadgets.yaml", UNSUPPORTED + "---\n" + objects))
    assert time.monotonic() - started < 20
    assert answer["findings"] == [] and result.returncode == 0, answer["findings"]
    warnings = [line for line in result.stderr.splitlines() if "CEL" in line]
    assert len(warnings) == 1, result.stderr
    assert warnings[0].startswith("warning: 4 CEL rules of gadgets.example.com could not be evaluated (")
    for why in ("quantity(), isSorted(): Kubernetes CEL functions cel-expr-python lacks", "optionalOldSelf", "10,000 comprehension"):
        assert why in warnings[0], warnings[0]
    assert "their objects were checked otherwise" in warnings[0]
    assert "size only grows" not in result.stderr  # a transition rule: skipped, since only updates have oldSelf
    # the rules it can evaluate still fail where they should
    _, answer = _check(cli, _write(tmp_path, "big.yaml", UNSUPPORTED + "---\n" + _gadget("big", 500, 2)))
    assert _rule_findings(answer) == [("big", "spec", "small")]


def test_without_cel_expr_python_rules_are_not_checked_and_said_so(cli, tmp_path):
    blocker = tmp_path / "blocker"
    (blocker / "cel_expr_python").mkdir(parents=True)
    (blocker / "cel_expr_python" / "__init__.py").write_text("raise ImportError('not here')\n")
    env = {**cli.env, "PYTHONPATH": str(blocker)}
    path = _write(tmp_path, "scalers.yaml", CRD + "---\n" + SCALERS)
    result = cli("check", "-f", str(path), "--kube-version", "1.33", "-o", "json", env=env)
    answer = json.loads(result.stdout)
    assert not _rule_findings(answer) and result.returncode == 0, result.stderr
    assert "7 CEL rules of scalers.example.com could not be evaluated (cel-expr-python is not installed" in result.stderr


def test_a_check_without_rules_does_not_import_cel(cli, tmp_path):
    probe = (
        "import sys; sys.argv = ['kubectl-apiinfo'] + sys.argv[1:]\n"
        "from kubectl_apiinfo.cli import main\n"
        "try:\n    main.main()\nexcept SystemExit:\n    pass\n"
        "print('cel_expr_python' in sys.modules, 'kubectl_apiinfo.answers.cel_rules' in sys.modules, file=sys.stderr)"
    )
    plain = _write(tmp_path, "plain.yaml", CRD.replace("x-kubernetes-validations", "x-unused") + "---\n" + SCALERS)
    ruled = _write(tmp_path, "ruled.yaml", CRD + "---\n" + SCALERS)
    seen = {}
    for path in (plain, ruled):
        result = subprocess.run([sys.executable, "-c", probe, "check", "-f", str(path), "--kube-version", "1.33"],
                                capture_output=True, text=True, env=cli.env, timeout=60)
        seen[path.name] = result.stderr.strip().splitlines()[-1]
    assert seen["plain.yaml"] == "False False"
    assert seen["ruled.yaml"].endswith("True") and seen["ruled.yaml"].startswith(str(sys.version_info >= (3, 11)))


def test_the_schema_form_keeps_well_formed_rules_only():
    rules = [{"rule": "self.a > 0", "message": "m", "fieldPath": ".a", "optionalOldSelf": False}]
    assert schema_form.normalize({"type": "object", "x-kubernetes-validations": rules})["x-kubernetes-validations"] == rules
    for wrong in ([{"message": "no rule"}], [{"rule": 1}], [{"rule": "x", "optionalOldSelf": "yes"}], {"rule": "x"}):
        assert "x-kubernetes-validations" not in schema_form.normalize({"type": "object", "x-kubernetes-validations": wrong})


@needs_cel
def test_the_real_image_updater_crds_rules(cli, tmp_path, shared_manifests):
    pytest.importorskip("cel_expr_python")
    import yaml

    docs = list(yaml.safe_load_all((shared_manifests / IMAGE_UPDATER).read_text()))
    crd = next(d for d in docs if d and d.get("kind") == "CustomResourceDefinition")
    assert "x-kubernetes-validations" in json.dumps(crd)
    ref = {"namePattern": "app-*", "images": [{"alias": "a", "imageName": "nginx", "manifestTargets": {"helm": {"name": "x"}}}]}
    objects = [
        {"metadata": {"name": "fine"}, "spec": {"applicationRefs": [ref, {"namePattern": "b-*", "useAnnotations": True}]}},
        {"metadata": {"name": "no-images"}, "spec": {"applicationRefs": [{"namePattern": "app-*"}]}},
        {"metadata": {"name": "both"}, "spec": {"applicationRefs": [
            {**ref, "images": [{**ref["images"][0], "manifestTargets": {"helm": {"name": "x"}, "kustomize": {"name": "k"}}}]}]}},
    ]
    stream = [crd] + [{"apiVersion": f"{crd['spec']['group']}/v1alpha1", "kind": "ImageUpdater", **o} for o in objects]
    path = _write(tmp_path, "updaters.yaml", yaml.safe_dump_all(stream))
    result, answer = _check(cli, path)
    assert [(name, field) for name, field, _ in _rule_findings(answer)] == [
        ("no-images", "spec.applicationRefs"), ("both", "spec.applicationRefs.images.manifestTargets")]
    assert "Either useAnnotations must be true" in _rule_findings(answer)[0][2]
    assert "CEL" not in result.stderr


@needs_cel
def test_the_corpus_has_no_rule_failures_and_its_crds_rules_run_on_custom_resources(cli, tmp_path, shared_manifests):
    pytest.importorskip("cel_expr_python")
    # The corpus has the CRDs with rules but none of their custom resources: these ride along in the same run.
    added = _write(tmp_path, "added.yaml", """\
apiVersion: argocd-image-updater.argoproj.io/v1alpha1
kind: ImageUpdater
metadata: {name: no-images}
spec:
  applicationRefs: [{namePattern: app-*}]
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: r}
spec:
  selector: {matchLabels: {app: r}}
  template: {metadata: {labels: {app: r}}, spec: {containers: [{name: c, image: nginx}]}}
""")
    result = cli("check", "-f", str(shared_manifests), "-f", str(added), "-R", "--kube-version", "1.29", "-o", "json",
                 timeout=300)
    answer = json.loads(result.stdout)
    failed = [(f["file"], f["name"], f["field"]) for f in answer["findings"] if "celRule" in f]
    assert failed == [(str(added), "no-images", "spec.applicationRefs")]  # the Rollout's rule is a transition rule
    assert "CEL" not in result.stderr
