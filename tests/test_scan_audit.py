"""scan --audit-log: an API server's audit log, read offline, summarised by who still requests deprecated APIs,
judged against a release; the real command on logs built as kube-apiserver's log backend writes them."""

from __future__ import annotations

import gzip
import json
import socket
import subprocess

from conftest import COMMAND, assert_one_line_error

HELM = "helm/v3.8.0 (linux/amd64) helm/v3.8.0"
KUBECTL = "kubectl/v1.21.14 (linux/amd64) kubernetes/0f17c5a"
DEPLOYER = "system:serviceaccount:ci:deployer"
_ids = iter(range(1, 1_000_000))


def _event(stage, verb, user, agent, group, version, resource, when, removed="", deprecated=True, audit_id=None,
           namespace="default", subresource="", level="Metadata", **bodies):
    """One audit.k8s.io/v1 Event as kube-apiserver's log backend writes it (--audit-log-format=json)."""
    ref = {"resource": resource, "namespace": namespace, "apiGroup": group, "apiVersion": version}
    if subresource:
        ref["subresource"] = subresource
    if not group:
        del ref["apiGroup"]
    prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
    event = {
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": level,
        "auditID": audit_id or f"5f7b2b4e-1c3d-4e5f-8a9b-{next(_ids):012x}", "stage": stage,
        "requestURI": f"{prefix}/namespaces/{namespace}/{resource}" + ("?watch=true" if verb == "watch" else ""),
        "verb": verb, "user": {"username": user, "uid": "3f5b0d2e", "groups": ["system:authenticated"]},
        "sourceIPs": ["10.0.12.7"], "userAgent": agent, "objectRef": ref,
        "requestReceivedTimestamp": when, "stageTimestamp": when,
    }
    if stage != "RequestReceived":  # the handler annotates the request after it is received
        event["responseStatus"] = {"metadata": {}, "code": 200}
        event.update(bodies)
        annotations = {"authorization.k8s.io/decision": "allow",
                       "authorization.k8s.io/reason": 'RBAC: allowed by ClusterRoleBinding "deployer"'}
        if deprecated:
            annotations["k8s.io/deprecated"] = "true"
            if removed:
                annotations["k8s.io/removed-release"] = removed
        event["annotations"] = annotations
    return event


def _request(verb, user, agent, group, version, resource, when, removed="", stages=("RequestReceived", "ResponseComplete"), **kw):
    """Every stage a request logs, sharing its auditID."""
    audit_id = f"0b8e6a52-7d41-4c1f-9e3a-{next(_ids):012x}"
    return [_event(stage, verb, user, agent, group, version, resource, when, removed, audit_id=audit_id, **kw) for stage in stages]


def _lines(events) -> bytes:
    return b"".join(json.dumps(e, separators=(",", ":")).encode() + b"\n" for e in events)


def _two_clients() -> list:
    """helm lists PodSecurityPolicies three times (watching once), kubectl gets a CronJob twice, and a deployment
    is read through apps/v1, which nobody deprecates."""
    events = []
    for day in (1, 2, 3):
        events += _request("list", DEPLOYER, HELM, "policy", "v1beta1", "podsecuritypolicies",
                           f"2024-03-0{day}T10:00:00.12345{day}Z", "1.25")
    events += _request("watch", DEPLOYER, HELM, "policy", "v1beta1", "podsecuritypolicies", "2024-03-02T08:30:00.000000Z",
                       "1.25", stages=("RequestReceived", "ResponseStarted", "ResponseComplete"))
    for when in ("2024-03-04T11:00:00.000001Z", "2024-03-05T09:15:42.500000Z"):
        events += _request("get", "alice@example.com", KUBECTL, "batch", "v1beta1", "cronjobs", when, "1.25")
    events += _request("get", "alice@example.com", KUBECTL, "apps", "v1", "deployments", "2024-03-05T09:16:00.000000Z",
                       deprecated=False)
    return events


def _scan(cli, *args, stdin=None):
    result = subprocess.run([str(COMMAND), "scan", *args], input=stdin, capture_output=True, cwd=cli.home, env=cli.env,
                            timeout=60)
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def _json(cli, *args, stdin=None):
    status, out, err = _scan(cli, "-o", "json", *args, stdin=stdin)
    assert status in (0, 2, 3), err
    return status, json.loads(out), err


def _log(tmp_path, events, name="audit.log", compress=False) -> str:
    data = _lines(events)
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if compress else data)
    return str(path)


def _who(answer) -> list:
    return [(f["userAgent"], f["user"], f["verb"], f["resource"], f["count"], f["firstSeen"], f["lastSeen"])
            for f in answer["findings"]]


def test_an_audit_log_is_summarised_by_user_agent(cli, tmp_path):
    log = _log(tmp_path, _two_clients())
    status, answer, _ = _json(cli, "--audit-log", log, "--kube-version", "1.25")
    assert sorted(_who(answer)) == [
        (HELM, DEPLOYER, "list", "podsecuritypolicies.policy", 3, "2024-03-01T10:00:00.123451Z", "2024-03-03T10:00:00.123453Z"),
        (HELM, DEPLOYER, "watch", "podsecuritypolicies.policy", 1, "2024-03-02T08:30:00.000000Z", "2024-03-02T08:30:00.000000Z"),
        (KUBECTL, "alice@example.com", "get", "cronjobs.batch", 2, "2024-03-04T11:00:00.000001Z", "2024-03-05T09:15:42.500000Z"),
    ]
    assert {f["origin"] for f in answer["findings"]} == {"audit-log"} and {f["finding"] for f in answer["findings"]} == {"not-served"}
    cronjobs = next(f for f in answer["findings"] if f["resource"] == "cronjobs.batch")
    assert (cronjobs["kind"], cronjobs["apiVersion"], cronjobs["removedRelease"], cronjobs["replacement"]) == (
        "CronJob", "batch/v1beta1", "1.25", "batch/v1/CronJob")
    assert answer["cluster"] is None and status == 3
    assert answer["scanned"]["auditLog"] == {
        "file": log, "gzip": False, "lines": 15, "events": 15, "requests": 7, "deprecatedRequests": 6,
        "skippedLines": 0, "complete": True}
    status, answer, _ = _json(cli, "--audit-log", log, "--kube-version", "1.24")  # removed in 1.25: deprecated before
    assert {f["finding"] for f in answer["findings"]} == {"deprecated"} and status == 2
    status, table, err = _scan(cli, "--audit-log", log, "--kube-version", "1.25")
    rows = table.splitlines()
    assert rows[0].split()[:5] == ["RESOURCE", "APIVERSION", "VERB", "USER", "AGENT"]
    assert [r for r in rows if KUBECTL in r and "alice@example.com" in r and " get " in r and "2024-03-05T09:15:42Z" in r]
    assert len([r for r in rows if HELM in r]) == 2 and status == 3
    assert "3 findings: 3 not-served; scanned the audit log" in err and "7 requests in 15 events" in err


def test_the_stages_of_one_request_count_once(cli, tmp_path):
    one = _request("watch", DEPLOYER, HELM, "policy", "v1beta1", "podsecuritypolicies", "2024-03-02T08:30:00.000000Z",
                   "1.25", stages=("RequestReceived", "ResponseStarted", "ResponseComplete"))
    panicked = _request("create", DEPLOYER, HELM, "policy", "v1beta1", "podsecuritypolicies", "2024-03-02T09:00:00.000000Z",
                        "1.25", stages=("RequestReceived", "Panic"))
    status, answer, _ = _json(cli, "--audit-log", _log(tmp_path, one + panicked), "--kube-version", "1.25")
    assert sorted((f["verb"], f["count"]) for f in answer["findings"]) == [("create", 1), ("watch", 1)]
    assert answer["scanned"]["auditLog"]["events"] == 5 and answer["scanned"]["auditLog"]["requests"] == 2


def test_gzip_is_known_by_its_bytes_and_stdin_is_read(cli, tmp_path):
    plain = _json(cli, "--audit-log", _log(tmp_path, _two_clients()), "--kube-version", "1.25")[1]
    half = len(_two_clients()) // 2
    events = _two_clients()
    rotated = gzip.compress(_lines(events[:half])) + gzip.compress(_lines(events[half:]))  # two members: cat'ed logs
    (tmp_path / "kube-apiserver-audit.log").write_bytes(rotated)  # gzip without .gz in its name
    status, answer, _ = _json(cli, "--audit-log", str(tmp_path / "kube-apiserver-audit.log"), "--kube-version", "1.25")
    assert sorted(_who(answer)) == sorted(_who(plain)) and answer["scanned"]["auditLog"]["gzip"] is True
    for stdin in (_lines(events), rotated):
        status, answer, _ = _json(cli, "--audit-log", "-", "--kube-version", "1.25", stdin=stdin)
        assert sorted(_who(answer)) == sorted(_who(plain)) and answer["scanned"]["auditLog"]["file"] == "<stdin>"


def test_damaged_lines_are_one_warning_and_the_rest_is_read(cli, tmp_path):
    core_event = {"kind": "Event", "apiVersion": "v1", "metadata": {"name": "web.17c"}, "reason": "Scheduled"}
    events = _two_clients()
    data = _lines(events[:3]) + b'{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"cut off\n' \
        + json.dumps(core_event).encode() + b"\n\n\xff\xfe not utf-8\n" + _lines(events[3:])
    (tmp_path / "audit.log").write_bytes(data)
    status, answer, err = _json(cli, "--audit-log", str(tmp_path / "audit.log"), "--kube-version", "1.25")
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert warnings == [f"warning: {tmp_path / 'audit.log'}: 3 lines are not audit events and were skipped "
                        "(the first, line 4: not JSON)"]
    assert sorted(_who(answer)) == sorted(_who(_json(cli, "--audit-log", _log(tmp_path, events, "whole.log"),
                                                     "--kube-version", "1.25")[1]))
    assert answer["scanned"]["auditLog"]["skippedLines"] == 3 and status == 3


def test_an_oversized_line_is_skipped_unread_and_the_rest_is_read(cli, tmp_path):
    body = {"kind": "ConfigMapList", "apiVersion": "v1", "items": [{"data": {"blob": "x" * (17 * 1024 * 1024)}}]}
    huge = _event("ResponseComplete", "list", DEPLOYER, HELM, "", "v1", "configmaps", "2024-03-01T09:00:00.000000Z",
                  deprecated=False, level="RequestResponse", responseObject=body)
    events = _two_clients()
    for compress in (False, True):  # decompressed, the line is still over the bound: never held whole
        log = _log(tmp_path, [events[0], huge, *events[1:]], compress=compress)
        status, answer, err = _json(cli, "--audit-log", log, "--kube-version", "1.25")
        warnings = [line for line in err.splitlines() if line.startswith("warning:")]
        assert len(warnings) == 1 and "1 line over 16 MB was skipped unread (the first, line 2)" in warnings[0], warnings
        assert len(answer["findings"]) == 3 and answer["scanned"]["auditLog"]["lines"] == 16
        assert [s["part"] for s in answer["skipped"]] == [f"1 line of {log} over 16 MB"]


def test_a_damaged_gzip_is_read_up_to_the_damage_and_says_so(cli, tmp_path):
    events = _two_clients()
    whole = gzip.compress(_lines(events))
    (tmp_path / "audit.log.gz").write_bytes(whole[: len(whole) * 2 // 3])  # a copy cut short
    status, answer, err = _json(cli, "--audit-log", str(tmp_path / "audit.log.gz"), "--kube-version", "1.25")
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "the gzip stream is damaged after line" in warnings[0], err
    read = answer["scanned"]["auditLog"]
    assert 0 < read["lines"] < len(events) and read["complete"] is False and answer["findings"]
    assert answer["skipped"][0]["part"] == f"{tmp_path / 'audit.log.gz'} after line {read['lines']}"
    status, out, err = _scan(cli, "--audit-log", str(tmp_path / "audit.log.gz"), "--kube-version", "1.25")
    assert f"not scanned: {tmp_path / 'audit.log.gz'} after line {read['lines']}" in err


def test_bodies_and_other_facts_of_the_events_are_never_shown(cli, tmp_path):
    secret = {"kind": "Secret", "apiVersion": "v1", "data": {"password": "aHVudGVyMi1zM2NyZXQ="}}
    events = _request("create", DEPLOYER, HELM, "policy", "v1beta1", "podsecuritypolicies", "2024-03-01T10:00:00.000000Z",
                      "1.25", level="RequestResponse", requestObject=secret, responseObject=secret)
    log = _log(tmp_path, events)
    for output in ("json", "yaml", "table", "csv", "markdown"):
        status, out, err = _scan(cli, "--audit-log", log, "-o", output)
        assert status == 3 and HELM in out, output
        for fact in ("aHVudGVyMi1zM2NyZXQ=", "10.0.12.7", "3f5b0d2e", "ClusterRoleBinding", "system:authenticated"):
            assert fact not in out + err, (output, fact)


def test_what_is_not_an_audit_log_is_one_line_and_status_1(cli, tmp_path):
    (tmp_path / "deploy.yaml").write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n")
    (tmp_path / "empty.log").write_bytes(b"")
    (tmp_path / "events.json").write_text(json.dumps({"kind": "Event", "apiVersion": "v1", "reason": "Pulled"}) + "\n")
    (tmp_path / "noise.gz").write_bytes(gzip.compress(b"\x8b\xff\x00binary\n" * 10))
    (tmp_path / "legacy.log").write_text('2024-03-01T10:00:00.1Z AUDIT: id="0b8e" stage="ResponseComplete" ip="10.0.12.7"\n')
    for name, fragment in (("deploy.yaml", "line 1: not JSON"), ("empty.log", "is empty"),
                           ("events.json", "line 1: not an audit.k8s.io Event"), ("noise.gz", "not UTF-8"),
                           ("legacy.log", "not JSON")):
        result = subprocess.run([str(COMMAND), "scan", "--audit-log", str(tmp_path / name)], capture_output=True,
                                text=True, cwd=cli.home, env=cli.env, timeout=60)
        assert result.returncode == 1, name
        assert_one_line_error(result, "holds no audit events" if name != "empty.log" else "is empty", fragment,
                              "--audit-log-format=json")
    assert_one_line_error(cli("scan", "--audit-log", str(tmp_path / "nosuch.log")), "nosuch.log", "No such file")
    assert_one_line_error(cli("scan", "--audit-log", str(tmp_path)), "Is a directory")
    assert_one_line_error(cli("scan", "--audit-log", ""), "--audit-log needs a file")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_no_kubeconfig_is_needed_and_an_unreachable_cluster_is_not_asked(cli, tmp_path):
    log = _log(tmp_path, _two_clients())
    status, answer, err = _json(cli, "--audit-log", log)  # no kubeconfig at all: the newest release is the target
    assert status == 3 and len(answer["findings"]) == 3 and answer["target"]["kind"] == "catalog"
    closed = tmp_path / "closed.yaml"
    closed.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: prod\n"
        f"clusters: [{{name: prod, cluster: {{server: 'https://127.0.0.1:{_closed_port()}'}}}}]\n"
        "users: [{name: admin, user: {token: t0ken}}]\n"
        "contexts: [{name: prod, context: {cluster: prod, user: admin}}]\n")
    cli.env["KUBECONFIG"] = str(closed)
    status, with_config, err = _json(cli, "--audit-log", log)
    assert with_config["findings"] == answer["findings"] and status == 3 and "warning" not in err


def test_a_configured_cluster_is_not_asked(cli, tmp_path, fake_apiserver):
    log = _log(tmp_path, _two_clients())
    api = fake_apiserver(release="1.24", token="s3cret")
    cli.env["KUBECONFIG"] = str(api.write_kubeconfig(tmp_path / "kubeconfig"))
    api.reset()
    for offline in ([], ["--offline"]):  # the log alone, whatever the kubeconfig names; --offline agrees
        status, answer, err = _json(cli, "--audit-log", log, "--kube-version", "1.25", *offline)
        assert api.requests()["count"] == 0 and status == 3 and answer["cluster"] is None
        assert answer["scanned"]["requests"] == 0 and answer["scanned"]["resources"] == 0


def test_flags_that_scan_a_cluster_are_refused_with_an_audit_log(cli, tmp_path):
    log = _log(tmp_path, _two_clients())
    for extra, named in ((["--context", "prod"], "--context"), (["--resources", "deployments"], "--resources"),
                         (["--last-applied"], "--last-applied"), (["--all-contexts"], "--all-contexts"),
                         (["--server", "https://10.0.0.1"], "--server")):
        assert_one_line_error(cli("scan", "--audit-log", log, *extra), "--audit-log scans the audit log alone", named)
    assert_one_line_error(cli("scan", "--offline"), "live cluster")  # without a log: the cluster (its kept scan)
