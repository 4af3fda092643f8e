"""migrate as data: which apiVersion a target serves for an object it does not, and the upstream conversion to it.

Each conversion is a pure function on one object, a plain dict or a ruamel
CommentedMap (so comments and key order stay where they were): it rewrites the
fields whose schema changed, in place, and returns notes on what a reader should
know (a default that changed meaning, a value it had to choose).  Where it comes
from is said above each one: the Kubernetes conversion functions
(pkg/apis/<group>/<version>/conversion.go), the old version's defaults
(defaults.go) and the release notes of the removal.  The apiVersion itself is
always the catalog's: the replacement its lifecycle facts name, else the version
the target serves for the same group and kind (answers/check.py's Checker).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Callable, Optional

from kubectl_apiinfo.answers.check import DEPRECATED, NOT_SERVED, OFF_BY_DEFAULT, split_api_version
from kubectl_apiinfo.answers.migrations_crd import crd_to_v1
from kubectl_apiinfo.answers.migrations_edit import give_comment, new_map, place, rename, take_comment
from kubectl_apiinfo.model import group_version, release_key, version_priority_key
from kubectl_apiinfo.sources.catalog import releases

_MOVED = (NOT_SERVED, OFF_BY_DEFAULT)


class Plan:
    """What to do with one object: move it to api_version (None: leave it), or why it cannot be moved."""

    __slots__ = ("api_version", "problem")

    def __init__(self, api_version: Optional[str] = None, problem: str = ""):
        self.api_version = api_version
        self.problem = problem


def _served(checker, group: str, version: str, kind: str) -> bool:
    return not any(f["finding"] in _MOVED for f in checker.kind_findings(group, version, kind))


def _same_kind_served(checker, group: str, version: str, kind: str) -> Optional[str]:
    """The group/version the target serves the same group and kind in, when the lifecycle facts name none (events.k8s.io
    v1beta1 Event, node.k8s.io v1beta1 RuntimeClass) or name another kind (networking v1beta1 IngressClass's is
    IngressClassList, a slip in k8s.io/api)."""
    target = checker.target
    versions = [v for (g, v, k), r in target.kinds.items() if g == group and k == kind and v != version and r.served]
    if not versions:
        return None
    return group_version(group, sorted(versions, key=version_priority_key)[0])


def _undeprecated(checker, group: str, version: str, kind: str) -> Optional[str]:
    """The group/version of a replacement the target deprecates in favour of one it serves: flowcontrol v1beta1's
    replacement is v1beta3, which 1.29 serves but deprecates for v1 (the same kind, never another's)."""
    for f in checker.kind_findings(group, version, kind):
        gv, _, replacement_kind = (f.get("replacement") or "").rpartition("/")
        if f["finding"] == DEPRECATED and f.get("replacementServed") and replacement_kind == kind:
            return gv
    return None


def plan(checker, api_version: str, kind: str) -> Plan:
    """Where the target serves this apiVersion/kind: Plan() when it already does (or knows nothing of it: a custom
    resource is left as it is), Plan(new) when a replacement is served, Plan(problem=...) when none is."""
    group, version = split_api_version(api_version)
    findings = [f for f in checker.kind_findings(group, version, kind) if f["finding"] in _MOVED]
    if not findings:
        return Plan()
    history = releases.history_of(group, version, kind)
    served = history.served if history is not None else []
    if served and checker.release and release_key(served[0][0]) > release_key(checker.release):
        # A newer API than the target has: the conversions here go forward only (batch/v1 CronJob for 1.19).
        return Plan(problem=f"{findings[0]['detail']}; migrate moves objects to newer APIs only")
    seen = {api_version}
    current, finding = api_version, findings[0]
    for _ in range(6):  # extensions/v1beta1 -> policy/v1beta1 -> ...: a replacement may itself be gone
        replacement = finding.get("replacement")
        gv, _, replacement_kind = (replacement or "").rpartition("/")
        if not replacement or replacement_kind != kind:
            gv = _same_kind_served(checker, *split_api_version(current), kind) or ""
        if not gv or gv in seen:
            break
        seen.add(gv)
        g, v = split_api_version(gv)
        if _served(checker, g, v, kind):
            better = _undeprecated(checker, g, v, kind)
            return Plan(better if better and better not in seen else gv)
        current = gv
        finding = next((f for f in checker.kind_findings(g, v, kind) if f["finding"] in _MOVED), {})
    return Plan(problem=f"{findings[0]['detail']}; nothing to migrate it to")


# --- the conversions ----------------------------------------------------------------------------------


def _backend(backend) -> list:
    """An IngressBackend's serviceName/servicePort as service.name and service.port.number (or .name).
    Source: pkg/apis/networking/v1beta1/conversion.go and extensions/v1beta1/conversion.go,
    Convert_v1beta1_IngressBackend_To_networking_IngressBackend: an int servicePort is port.number, a string
    port.name (a string of digits is read as the number it spells: as a name it would be refused)."""
    if not isinstance(backend, dict) or "serviceName" not in backend:
        return []
    notes = []
    said_name, said_port = take_comment(backend, "serviceName"), take_comment(backend, "servicePort")
    service = new_map(backend)
    service["name"] = backend["serviceName"]
    give_comment(service, "name", said_name)
    port = backend.pop("servicePort", None)
    if port is not None:
        number = isinstance(port, int) or (isinstance(port, str) and port.isdigit())
        key = "number" if number else "name"
        service["port"] = new_map(backend)
        service["port"][key] = int(port) if number else str(port)
        give_comment(service["port"], key, said_port)
        if isinstance(port, str) and number:
            notes.append(f"servicePort {port!r} is a string of digits: written as port.number {int(port)}")
    rename(backend, "serviceName", "service", service)
    return notes


def ingress(obj, old: str, new: str) -> list:
    """Ingress extensions/v1beta1, networking.k8s.io/v1beta1 -> networking.k8s.io/v1.
    Source: pkg/apis/networking/v1beta1/conversion.go (backend -> defaultBackend, the backends above) and
    v1beta1/defaults.go (SetDefaults_HTTPIngressPath: pathType ImplementationSpecific, which v1 requires)."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return []
    notes = []
    if "backend" in spec:
        rename(spec, "backend", "defaultBackend")
        notes += _backend(spec["defaultBackend"])
    for rule in spec.get("rules") or []:
        http = rule.get("http") if isinstance(rule, dict) else None
        for path in (http or {}).get("paths") or []:
            if not isinstance(path, dict):
                continue
            notes += _backend(path.get("backend"))
            if path.get("pathType") is None:
                place(path, "pathType", "ImplementationSpecific", after="path")
    return notes


# Per v2beta1 metric source: its target fields and their v2 MetricTarget names, and the field whose presence
# decides the target's type (Convert_v2beta1_*MetricSource_To_autoscaling_*): (type if present, type if not).
_V2BETA1_TARGETS = {
    "resource": ((("targetAverageUtilization", "averageUtilization"), ("targetAverageValue", "averageValue")),
                 "averageUtilization", ("Utilization", "AverageValue")),
    "pods": ((("targetAverageValue", "averageValue"),), "averageValue", ("AverageValue", "AverageValue")),
    "object": ((("targetValue", "value"), ("averageValue", "averageValue")), "averageValue", ("AverageValue", "Value")),
    "external": ((("targetValue", "value"), ("targetAverageValue", "averageValue")), "value", ("Value", "AverageValue")),
}
_V2BETA1_TARGETS["containerResource"] = _V2BETA1_TARGETS["resource"]


def _metric_target(source, key: str) -> None:
    """v2beta1's flat target fields as a v2 MetricTarget {type, value|averageValue|averageUtilization}, where the
    first of them stood."""
    fields, decides, (present, absent) = _V2BETA1_TARGETS[key]
    found = [(old, new) for old, new in fields if old in source]
    if not found:
        return
    target = new_map(source)
    target["type"] = None
    for old, new in found:
        target[new] = source[old]
    target["type"] = present if decides in target else absent
    rename(source, found[0][0], "target", target)
    for old, _ in found[1:]:
        source.pop(old)


def _metric_identifier(source, name_key: str, selector_key: str) -> None:
    """v2beta1's metricName (+ selector) as a v2 MetricIdentifier {name, selector}."""
    if name_key not in source:
        return
    metric = new_map(source)
    metric["name"] = source[name_key]
    if selector_key in source:
        metric["selector"] = source.pop(selector_key)
    rename(source, name_key, "metric", metric)


def hpa(obj, old: str, new: str) -> list:
    """HorizontalPodAutoscaler autoscaling/v2beta1, v2beta2 -> autoscaling/v2.
    Source: pkg/apis/autoscaling/v2beta1/conversion.go (Convert_v2beta1_*MetricSource_To_autoscaling_*: the
    target fields into MetricTarget, metricName/selector into MetricIdentifier, object.target into
    describedObject); v2beta2 has v2's shape already (pkg/apis/autoscaling/v2beta2 converts field for field)."""
    if not old.endswith("/v2beta1"):
        return []
    for metric in (obj.get("spec") or {}).get("metrics") or []:
        if not isinstance(metric, dict):
            continue
        for key in ("resource", "containerResource", "pods", "object", "external"):
            source = metric.get(key)
            if not isinstance(source, dict):
                continue
            if key == "object":
                rename(source, "target", "describedObject")
            if key in ("pods", "object"):
                _metric_identifier(source, "metricName", "selector")
            if key == "external":
                _metric_identifier(source, "metricName", "metricSelector")
            _metric_target(source, key)
    return []


_OLD_DEFAULT_UPDATE = {  # the update strategy the old version defaulted to, where apps/v1's default differs
    ("extensions/v1beta1", "DaemonSet"): "OnDelete",
    ("apps/v1beta1", "StatefulSet"): "OnDelete",
}


def workload(obj, old: str, new: str) -> list:
    """Deployment, DaemonSet, ReplicaSet, StatefulSet extensions/v1beta1, apps/v1beta1|2 -> apps/v1.
    Source: pkg/apis/apps/v1/conversion.go and the old versions' defaults.go: their SetDefaults_* filled an absent
    selector from the template's labels, which apps/v1 requires and never defaults; rollbackTo and
    templateGeneration have no apps/v1 field (1.16 release notes); extensions DaemonSet and apps/v1beta1
    StatefulSet defaulted updateStrategy to OnDelete, apps/v1 to RollingUpdate, so the old one is written out."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return []
    notes, kind = [], obj.get("kind")
    if spec.get("selector") is None:
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels")
        if isinstance(labels, dict) and labels:
            selector = new_map(spec)
            selector["matchLabels"] = new_map(spec)
            selector["matchLabels"].update(labels)
            place(spec, "selector", selector, before="template")
            notes.append("spec.selector was absent: apps/v1 requires it, so it is the template's labels "
                         f"({', '.join(f'{k}={v}' for k, v in labels.items())}), as {old} defaulted it")
        else:
            notes.append("spec.selector is absent and the template has no labels: apps/v1 requires both; add them")
    for gone in ("rollbackTo", "templateGeneration"):
        if gone in spec:
            spec.pop(gone)
            notes.append(f"spec.{gone} has no apps/v1 field: dropped")
    default = _OLD_DEFAULT_UPDATE.get((old, kind))
    if default and spec.get("updateStrategy") is None:
        strategy = new_map(spec)
        strategy["type"] = default
        place(spec, "updateStrategy", strategy)
        notes.append(f"updateStrategy {default} written out: {old} defaulted to it, apps/v1 defaults to RollingUpdate")
    if (old, kind) == ("extensions/v1beta1", "Deployment"):
        notes.append("extensions/v1beta1 defaults differ from apps/v1's (revisionHistoryLimit unlimited, not 10; "
                     "no progressDeadlineSeconds; rollingUpdate 1/1, not 25%/25%): set them if you relied on them")
    if (old, kind) == ("apps/v1beta1", "Deployment") and spec.get("revisionHistoryLimit") is None:
        notes.append("apps/v1beta1 defaulted revisionHistoryLimit to 2, apps/v1 to 10: set it if you relied on it")
    return notes


def pdb(obj, old: str, new: str) -> list:
    """PodDisruptionBudget policy/v1beta1 -> policy/v1: the same fields; an empty selector changed meaning.
    Source: the 1.21 release notes and pkg/apis/policy/v1beta1/conversion.go."""
    selector = (obj.get("spec") or {}).get("selector")
    if isinstance(selector, dict) and not any(selector.get(k) for k in ("matchLabels", "matchExpressions")):
        return ["spec.selector is empty: in policy/v1beta1 it selected no pods, in policy/v1 it selects every pod of "
                "the namespace"]
    return []


def endpoint_slice(obj, old: str, new: str) -> list:
    """EndpointSlice discovery.k8s.io/v1beta1 -> v1: each endpoint's topology is deprecatedTopology, its
    topology.kubernetes.io/zone the zone.  Source: pkg/apis/discovery/v1beta1/conversion.go
    (Convert_v1beta1_Endpoint_To_discovery_Endpoint); the 1.21 release notes name nodeName for kubernetes.io/hostname."""
    notes = []
    for endpoint in obj.get("endpoints") or []:
        if not isinstance(endpoint, dict) or "topology" not in endpoint:
            continue
        topology = endpoint.get("topology") or {}
        rename(endpoint, "topology", "deprecatedTopology")
        if "topology.kubernetes.io/zone" in topology and "zone" not in endpoint:
            endpoint["zone"] = topology["topology.kubernetes.io/zone"]
        if "kubernetes.io/hostname" in topology and "nodeName" not in endpoint:
            endpoint["nodeName"] = topology["kubernetes.io/hostname"]
            notes.append("nodeName is the endpoint's kubernetes.io/hostname topology")
    return notes


def priority_level(obj, old: str, new: str) -> list:
    """PriorityLevelConfiguration flowcontrol v1alpha1|v1beta1|v1beta2 -> v1beta3|v1: limited.assuredConcurrencyShares
    is nominalConcurrencyShares.  Source: pkg/apis/flowcontrol/v1beta3 (the rename) and v1beta2/conversion.go."""
    limited = (obj.get("spec") or {}).get("limited")
    if isinstance(limited, dict) and "assuredConcurrencyShares" in limited:
        rename(limited, "assuredConcurrencyShares", "nominalConcurrencyShares")
    return []


# admissionregistration v1beta1 defaults (pkg/apis/admissionregistration/v1beta1/defaults.go) where v1's differ.
_WEBHOOK_DEFAULTS = (("failurePolicy", "Ignore"), ("matchPolicy", "Exact"), ("timeoutSeconds", 30))


def webhooks(obj, old: str, new: str) -> list:
    """Validating/MutatingWebhookConfiguration admissionregistration.k8s.io/v1beta1 -> v1: admissionReviewVersions
    and sideEffects are required, v1beta1 defaulted them to [v1beta1] and Unknown (which v1 refuses); failurePolicy,
    matchPolicy and timeoutSeconds are written out where v1 defaults differently (Fail, Equivalent, 10s).
    Source: pkg/apis/admissionregistration/v1beta1/defaults.go and the v1 validation (1.16 release notes)."""
    notes = []
    for hook in obj.get("webhooks") or []:
        if not isinstance(hook, dict):
            continue
        name = hook.get("name", "?")
        if not hook.get("admissionReviewVersions"):
            hook["admissionReviewVersions"] = ["v1beta1"]
            notes.append(f"webhook {name}: admissionReviewVersions [v1beta1], as v1beta1 defaulted")
        if hook.get("sideEffects") not in ("None", "NoneOnDryRun"):
            was = hook.get("sideEffects") or "Unknown (the v1beta1 default)"
            hook["sideEffects"] = "None"
            notes.append(f"webhook {name}: sideEffects was {was}, which v1 refuses: set to None; check that it has none")
        for key, value in _WEBHOOK_DEFAULTS:
            if key not in hook:
                hook[key] = value
    return notes


def certificate_request(obj, old: str, new: str) -> list:
    """CertificateSigningRequest certificates.k8s.io/v1beta1 -> v1: signerName is required; v1beta1 defaulted it to
    kubernetes.io/legacy-unknown, which v1 refuses to create.  Source: pkg/apis/certificates/v1beta1/defaults.go."""
    spec = obj.get("spec")
    if isinstance(spec, dict) and not spec.get("signerName"):
        return ["spec.signerName is absent: v1 requires it (kubernetes.io/kube-apiserver-client, "
                "kubernetes.io/kubelet-serving, ...); v1beta1's default kubernetes.io/legacy-unknown is refused"]
    return []


def crd(obj, old: str, new: str) -> list:
    return crd_to_v1(obj)


# kind -> (conversion, what it changes, for a Helm template's report).  Kinds not here move apiVersion alone:
# their schemas are the same in both versions (RBAC, NetworkPolicy, CronJob, storage, scheduling, CSIDriver, ...).
CONVERSIONS: dict = {
    "Ingress": (ingress, "each backend's serviceName/servicePort -> service.name and service.port.number (or "
                "service.port.name for a named port); spec.backend -> spec.defaultBackend; each path without one "
                "gets pathType: ImplementationSpecific"),
    "HorizontalPodAutoscaler": (hpa, "from v2beta1: each metric's targetAverageUtilization/targetAverageValue/"
                                "targetValue -> target {type, averageUtilization|averageValue|value}, metricName "
                                "(+ selector/metricSelector) -> metric {name, selector}, object.target -> "
                                "object.describedObject"),
    "Deployment": (workload, "spec.selector required (matchLabels: the template's labels); rollbackTo dropped"),
    "ReplicaSet": (workload, "spec.selector required (matchLabels: the template's labels)"),
    "DaemonSet": (workload, "spec.selector required (matchLabels: the template's labels); templateGeneration "
                  "dropped; updateStrategy OnDelete written out if absent (from extensions/v1beta1)"),
    "StatefulSet": (workload, "spec.selector required (matchLabels: the template's labels); updateStrategy "
                    "OnDelete written out if absent (from apps/v1beta1)"),
    "PodDisruptionBudget": (pdb, "no field changes; an empty spec.selector now selects every pod of the namespace"),
    "EndpointSlice": (endpoint_slice, "each endpoint's topology -> deprecatedTopology (its zone -> zone, "
                      "kubernetes.io/hostname -> nodeName)"),
    "PriorityLevelConfiguration": (priority_level, "spec.limited.assuredConcurrencyShares -> nominalConcurrencyShares"),
    "ValidatingWebhookConfiguration": (webhooks, "each webhook needs admissionReviewVersions and sideEffects "
                                       "(None or NoneOnDryRun); failurePolicy Ignore, matchPolicy Exact, "
                                       "timeoutSeconds 30 written out if absent (v1 defaults differ)"),
    "MutatingWebhookConfiguration": (webhooks, "each webhook needs admissionReviewVersions and sideEffects "
                                     "(None or NoneOnDryRun); failurePolicy Ignore, matchPolicy Exact, "
                                     "timeoutSeconds 30 written out if absent (v1 defaults differ)"),
    "CertificateSigningRequest": (certificate_request, "spec.signerName is required"),
    "CustomResourceDefinition": (crd, "spec.version -> spec.versions; top-level validation, subresources and "
                                 "additionalPrinterColumns (JSONPath -> jsonPath) into each version; "
                                 "preserveUnknownFields dropped (x-kubernetes-preserve-unknown-fields: true at "
                                 "the schema's root where it was true); conversion.webhookClientConfig -> "
                                 "conversion.webhook.clientConfig"),
}


# The fields each conversion renames or moves, by name: the lines a Helm template's report points at.
RENAMED: dict = {
    "Ingress": ("backend", "serviceName", "servicePort"),
    "HorizontalPodAutoscaler": ("targetAverageUtilization", "targetAverageValue", "targetValue", "averageValue",
                                "metricName", "metricSelector", "target"),
    "Deployment": ("rollbackTo",),
    "DaemonSet": ("templateGeneration",),
    "EndpointSlice": ("topology",),
    "PriorityLevelConfiguration": ("assuredConcurrencyShares",),
    "CustomResourceDefinition": ("version", "validation", "subresources", "additionalPrinterColumns", "JSONPath",
                                 "preserveUnknownFields", "webhookClientConfig", "conversionReviewVersions"),
}


def converter(kind: str) -> Optional[Callable]:
    entry = CONVERSIONS.get(kind)
    return entry[0] if entry else None


def changes(kind: str, old: str, new: str) -> str:
    """What migrating kind from old to new changes, in words: a Helm template's report."""
    entry = CONVERSIONS.get(kind)
    text = f"apiVersion: {old} -> apiVersion: {new}"
    return f"{text}; {entry[1]}" if entry else text


def migrate(obj, new: str) -> list:
    """obj rewritten in place to apiVersion new, with its kind's conversion; the notes it gives."""
    old = obj.get("apiVersion")
    obj["apiVersion"] = new
    convert = converter(obj.get("kind"))
    return convert(obj, old, new) if convert else []
