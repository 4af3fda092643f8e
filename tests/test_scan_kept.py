"""A cluster's last scan kept in the cache: scan --offline answers from it, cache export carries it to an
air-gapped machine, and what comes back from a cache or a bundle is checked before it is printed."""

from __future__ import annotations

import json

from conftest import assert_one_line_error

LEGACY_WEB = {
    "name": "web", "namespace": "default",
    "managedFields": [{"manager": "legacy-ci", "operation": "Update", "apiVersion": "extensions/v1beta1"}],
}


def _scanned(cli, fake_apiserver, tmp_path, *args):
    """A cluster scanned once while reachable, then gone: (kubeconfig, the live -o json answer)."""
    api = fake_apiserver(release="1.29", token="s3cret-token", objects={"apps/v1/deployments": [LEGACY_WEB]})
    kubeconfig = str(api.write_kubeconfig(tmp_path / "kubeconfig"))
    cli.env["KUBECTL_APIINFO_CACHE_DIR"] = str(tmp_path / "cache")
    live = cli("scan", "--kubeconfig", kubeconfig, "--kube-version", "1.25", "-o", "json", *args)
    assert live.returncode == 3, live.stderr
    api.stop()
    return kubeconfig, json.loads(live.stdout)


def test_offline_answers_with_the_last_scan_and_says_when_it_was(cli, fake_apiserver, tmp_path):
    kubeconfig, live = _scanned(cli, fake_apiserver, tmp_path)
    kept = cli("scan", "--kubeconfig", kubeconfig, "--offline", "-o", "json")
    assert kept.returncode == 3, kept.stderr
    answer = json.loads(kept.stdout)
    assert answer["findings"] == live["findings"] and answer["target"] == live["target"]
    assert answer["scannedAt"] == live["scannedAt"] and answer["fromCache"] is True
    table = cli("scan", "--kubeconfig", kubeconfig, "--offline")
    assert "legacy-ci" in table.stdout and f"kept from {live['scannedAt']}" in table.stderr
    same = cli("scan", "--kubeconfig", kubeconfig, "--offline", "--kube-version", "v1.25.3", "-o", "json")
    assert json.loads(same.stdout)["findings"] == live["findings"]
    other = cli("scan", "--kubeconfig", kubeconfig, "--offline", "--kube-version", "1.30")
    assert_one_line_error(other, "judged against 1.25", "scan again while it is reachable")


def test_no_kept_scan_a_narrowed_one_and_a_cleared_cache_say_so(cli, fake_apiserver, tmp_path):
    kubeconfig, _ = _scanned(cli, fake_apiserver, tmp_path, "--resources", "deployments")
    result = cli("scan", "--kubeconfig", kubeconfig, "--offline")
    assert_one_line_error(result, "no scan of", "is kept in the cache")  # a narrowed scan is not kept
    narrowed = cli("scan", "--kubeconfig", kubeconfig, "--offline", "--resources", "pods")
    assert_one_line_error(narrowed, "--resources")


def test_cache_clear_drops_the_kept_scan_with_the_snapshot(cli, fake_apiserver, tmp_path):
    kubeconfig, _ = _scanned(cli, fake_apiserver, tmp_path)
    assert cli("cache", "clear").returncode == 0
    db = (tmp_path / "cache").rglob("*.db")
    assert not any(b"legacy-ci" in path.read_bytes() for path in db)


def test_a_bundle_carries_the_scan_to_an_air_gapped_machine_without_credentials(cli, fake_apiserver, tmp_path):
    kubeconfig, live = _scanned(cli, fake_apiserver, tmp_path)
    bundle = tmp_path / "bundle.json"
    assert cli("cache", "export", str(bundle)).returncode == 0
    data = json.loads(bundle.read_text())
    [(identity, scan)] = data["scans"].items()
    assert scan["findings"] == live["findings"]
    assert "s3cret-token" not in bundle.read_text()
    cli.env["KUBECTL_APIINFO_CACHE_DIR"] = str(tmp_path / "elsewhere")
    assert cli("cache", "import", str(bundle)).returncode == 0
    kept = cli("scan", "--kubeconfig", kubeconfig, "--offline", "-o", "json")
    assert kept.returncode == 3, kept.stderr
    assert json.loads(kept.stdout)["findings"] == live["findings"]


def test_a_hostile_bundle_scan_is_refused_whole(cli, fake_apiserver, tmp_path):
    kubeconfig, live = _scanned(cli, fake_apiserver, tmp_path)
    bundle = tmp_path / "bundle.json"
    assert cli("cache", "export", str(bundle)).returncode == 0
    good = json.loads(bundle.read_text())
    [identity] = good["scans"]
    cli.env["KUBECTL_APIINFO_CACHE_DIR"] = str(tmp_path / "elsewhere")
    for damage, words in (
        (lambda s: s["findings"][0].update(objects="many"), "objects is not a count"),
        (lambda s: s["findings"][0].update(names=[{"x": 1}]), "names is not a list of names"),
        (lambda s: s["findings"][0].pop("detail"), "detail is not text"),
        (lambda s: s.update(kind="CheckResult"), "not a ScanResult"),
        (lambda s: s.update(skipped=[1]), "skipped parts are malformed"),
    ):
        bad = json.loads(json.dumps(good))
        damage(bad["scans"][identity])
        bundle.write_text(json.dumps(bad))
        result = cli("cache", "import", str(bundle))
        assert_one_line_error(result, "scans:", words, "nothing was imported")
        listed = cli("cache", "list", "-o", "json")
        assert json.loads(listed.stdout)["snapshots"] == [], "nothing of a refused bundle is stored"


def test_every_context_scanned_keeps_its_own_scan(cli, fake_apiserver, tmp_path):
    from conftest import use_contexts

    old = fake_apiserver(release="1.24", token="a", objects={"apps/v1/deployments": [LEGACY_WEB]})
    new = fake_apiserver(release="1.29", token="b")
    use_contexts(cli, tmp_path, {"old": old, "new": new})
    cli.env["KUBECTL_APIINFO_CACHE_DIR"] = str(tmp_path / "cache")
    every = cli("scan", "--all-contexts", "--kube-version", "1.25", "-o", "json")
    assert every.returncode == 3, every.stderr
    mine = [f for f in json.loads(every.stdout)["findings"] if f["context"] == "old"]
    old.stop()
    new.stop()
    kept = cli("scan", "--context", "old", "--offline", "-o", "json")
    assert kept.returncode == 3, kept.stderr
    assert [f["detail"] for f in json.loads(kept.stdout)["findings"]] == [f["detail"] for f in mine]
    assert_one_line_error(cli("scan", "--all-contexts", "--offline"), "--all-contexts")
