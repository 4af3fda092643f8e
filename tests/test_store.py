"""The snapshot store survives damage: bytes flipped inside stored values, hostile
bundles, a read-only cache; the real command against the fake API server."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import zlib
from pathlib import Path

import pytest

from conftest import COMMAND, assert_one_line_error
from test_cluster import Env, two_contexts, user


def stored_values(cache_dir: Path) -> list[tuple[int, object, object]]:
    """(rowid, inline value or None, value file or None) of every row in the diskcache."""
    db = sqlite3.connect(cache_dir / "cache.db")
    try:
        rows = db.execute("SELECT rowid, value, filename FROM Cache").fetchall()
    finally:
        db.close()
    return [(rowid, value, cache_dir / filename if filename else None) for rowid, value, filename in rows]


def _read(cache_dir: Path, rowid: int, value, path):
    return path.read_bytes() if path else (value.encode() if isinstance(value, str) else bytes(value))


def _write(cache_dir: Path, rowid: int, value, path, data: bytes) -> None:
    if path:
        path.write_bytes(data)
        return
    db = sqlite3.connect(cache_dir / "cache.db")
    try:
        db.execute("UPDATE Cache SET value = ? WHERE rowid = ?", (data.decode() if isinstance(value, str) else data, rowid))
        db.commit()
    finally:
        db.close()


def _decode(data: bytes) -> tuple[str, str]:
    """The JSON text of a stored value, and how it was wrapped: zlib (diskcache's JSONDisk),
    crc (our CRC-32 prefix) or plain."""
    try:
        return zlib.decompress(data).decode(), "zlib"
    except zlib.error:
        pass
    text = data.decode()
    if re.match(r"^[0-9a-f]{8} ", text):
        return text[9:], "crc"
    return text, "plain"


def _encode(text: str, how: str) -> bytes:
    if how == "zlib":
        return zlib.compress(text.encode(), 0)
    if how == "crc":
        return f"{zlib.crc32(text.encode()):08x} {text}".encode()
    return text.encode()


def snapshot_rows(cache_dir: Path, marker: str = '"verbs"'):
    """The rows whose stored value is (part of) a snapshot: their JSON mentions the marker."""
    found = []
    for row in stored_values(cache_dir):
        if row[1] is None and row[2] is None:
            continue
        data = _read(cache_dir, *row)
        try:
            text, _ = _decode(data)
        except UnicodeDecodeError:
            continue
        if marker in text:
            found.append(row)
    assert found, f"no stored value mentions {marker}"
    return found


def flip_a_byte(cache_dir: Path, marker: str = '"verbs"') -> None:
    """One byte flipped in the middle of every stored value that holds snapshot data."""
    for row in snapshot_rows(cache_dir, marker):
        data = bytearray(_read(cache_dir, *row))
        data[len(data) // 2] ^= 0x5A
        _write(cache_dir, *row, bytes(data))


def rewrite_values(cache_dir: Path, change, marker: str = '"verbs"') -> None:
    """Decode every stored snapshot value, change its JSON text, store it back as it was stored."""
    for row in snapshot_rows(cache_dir, marker):
        text, how = _decode(_read(cache_dir, *row))
        _write(cache_dir, *row, _encode(change(text), how))


COMMANDS = [
    ("deployments", "-o", "name"),
    ("resources", "-o", "name"),
    ("cache", "list"),
    ("cache", "export", "BUNDLE"),
    ("refresh",),
    ("cache", "clear"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_a_flipped_byte_inside_a_stored_snapshot_is_one_line_then_refetched(fake_apiserver, tmp_path, command):
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = user(tmp_path, api)
    me.json("deployments")
    flip_a_byte(me.cache_dir)
    args = [str(tmp_path / "bundle.json") if a == "BUNDLE" else a for a in command]
    result = me(*args)
    assert result.returncode == 0, result.stderr
    assert "unexpected" not in result.stderr and "Traceback" not in result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    if command != ("cache", "clear"):  # clearing drops everything without reading it
        assert len(warnings) == 1 and "fetched again" in warnings[0], result.stderr
    if command[0] == "deployments":
        assert result.stdout == "deployments.apps\n"
    # Dropped: the next query is quiet, and answers.
    again = me("deployments", "-o", "name")
    assert again.returncode == 0 and again.stdout == "deployments.apps\n" and again.stderr == "", again.stderr
    api.reset()
    assert me("deployments", "-o", "name").stderr == ""
    assert api.requests()["count"] == 0


def test_a_damaged_snapshot_answers_from_the_catalog_when_offline(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.30", token="t0ken-abc")
    me = user(tmp_path, api)
    me.json("deployments")
    api.stop()
    flip_a_byte(me.cache_dir)
    result = me("flowschemas", "-o", "json", "--offline")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["source"]["kind"] == "catalog"
    assert json.loads(result.stdout)["source"]["kubernetesVersion"] == "1.30"
    assert "fetched again" in result.stderr


@pytest.mark.parametrize(
    "change,fragment",
    [
        (lambda t: re.sub(r'"verbs":\s*\[', '"verbs": 7, "x": [', t, count=1), "verbs"),
        (lambda t: re.sub(r'"fetchedAt":\s*', '"fetchedAt": 1e300, "was": ', t, count=1), "fetchedAt"),
        (lambda t: re.sub(r'"kubernetesVersion":\s*"1.33"', '"kubernetesVersion": "banana"', t, count=1), "kubernetesVersion"),
    ],
    ids=["verbs", "fetchedAt", "kubernetesVersion"],
)
def test_a_stored_snapshot_that_decodes_but_is_invalid_is_dropped(fake_apiserver, tmp_path, change, fragment):
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = user(tmp_path, api)
    me.json("deployments")
    rewrite_values(me.cache_dir, change, marker=fragment)
    result = me("cache", "list", "-o", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["snapshots"] == []
    assert result.stderr.count("\n") == 1 and "damaged" in result.stderr and fragment in result.stderr, result.stderr
    result = me("deployments", "-o", "name")
    assert result.returncode == 0 and result.stdout == "deployments.apps\n" and result.stderr == "", result.stderr


def test_cache_clear_works_on_a_cache_that_is_not_a_database(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = user(tmp_path, api)
    me.json("deployments")
    (me.cache_dir / "cache.db").write_bytes(b"garbage" * 1000)
    result = me("cache", "clear")
    assert result.returncode == 0, result.stderr
    assert me.json("cache", "list")["snapshots"] == []


# --- bundles -------------------------------------------------------------------


def _exported(tmp_path: Path, api) -> tuple[Env, dict]:
    me = user(tmp_path, api)
    me.json("deployments")
    bundle = tmp_path / "bundle.json"
    assert me("cache", "export", str(bundle)).returncode == 0
    return me, json.loads(bundle.read_text())


@pytest.mark.parametrize(
    "field,value,fragment",
    [
        ("fetchedAt", "NaN", "NaN"),
        ("fetchedAt", "1e300", "fetchedAt"),
        ("fetchedAt", "-5", "fetchedAt"),
        ("fetchedAt", "Infinity", "Infinity"),
        ("kubernetesVersion", '"banana"', "kubernetesVersion"),
        ("name", "12", "name"),
        ("serverVersion", '{"major": 1}', "serverVersion"),
        ("extra", '{"age": NaN}', "NaN"),
    ],
)
def test_a_bundle_with_a_bad_value_is_refused_whole(fake_apiserver, tmp_path, field, value, fragment):
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me, data = _exported(tmp_path, api)
    good = data["snapshots"][0]
    bad = json.loads(json.dumps(good))
    bad["identity"] = "another"
    text = json.dumps({"kind": data["kind"], "schemaVersion": data["schemaVersion"], "snapshots": [good, bad]})
    marker = "__BAD__"
    if field == "kubernetesVersion":
        bad["snapshot"]["source"]["kubernetesVersion"] = marker
    elif field == "extra":
        bad["snapshot"]["source"]["extra"] = marker
    else:
        bad[field] = marker
    text = json.dumps({"kind": data["kind"], "schemaVersion": data["schemaVersion"], "snapshots": [good, bad]})
    text = text.replace(json.dumps(marker), value)
    path = tmp_path / "bad.json"
    path.write_text(text)
    fresh = Env(tmp_path / "fresh", tmp_path / "kubeconfig")
    assert_one_line_error(fresh("cache", "import", str(path)), fragment, "nothing was imported")
    assert fresh.json("cache", "list")["snapshots"] == []


def test_export_writes_standard_json_and_dash_means_stdout_and_stdin(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = user(tmp_path, api)
    me.json("deployments")
    exported = me("cache", "export", "-")
    assert exported.returncode == 0, exported.stderr
    bundle = json.loads(exported.stdout, parse_constant=lambda c: pytest.fail(f"non-standard JSON {c}"))
    assert [s["name"] for s in bundle["snapshots"]] == ["fake"]
    assert not (me.home / "-").exists()

    fresh = Env(tmp_path / "fresh", tmp_path / "kubeconfig")
    result = subprocess.run(
        [str(COMMAND), "cache", "import", "-"], input=exported.stdout, capture_output=True, text=True, env=fresh.env, cwd=fresh.home
    )
    assert result.returncode == 0 and "imported 1 snapshot: fake" in result.stderr, result.stderr
    api.stop()
    assert fresh("deployments", "-o", "name", "--offline").stdout == "deployments.apps\n"


# --- a read-only cache ---------------------------------------------------------


def _unprivileged() -> list[str]:
    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: cannot make a cache read-only for the command")
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def test_a_read_only_cache_answers_and_says_once_it_cannot_be_updated(fake_apiserver, tmp_path):
    import tempfile

    prefix = _unprivileged()
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    # A home the unprivileged user owns, outside pytest's root-only temporary directory.
    base = Path(tempfile.mkdtemp(prefix="apiinfo-ro-"))
    try:
        os.chmod(base, 0o755)
        kubeconfig = api.write_kubeconfig(base / "kubeconfig", embed=True)
        me = Env(base / "home", kubeconfig)
        if prefix:
            for p in (base, *base.rglob("*")):
                os.chown(p, 65534, 65534)

        def run(*args: str):
            return subprocess.run(prefix + [str(COMMAND), *args], capture_output=True, text=True, env=me.env, cwd=me.home)

        first = run("deployments", "-o", "name")
        assert first.returncode == 0 and first.stdout == "deployments.apps\n", first.stderr
        os.chmod(me.cache_dir / "cache.db", 0o400)
        api.reset()
        for args in (("deployments", "-o", "name"), ("resources", "-o", "name"), ("cache", "list", "-o", "name")):
            result = run(*args)
            assert result.returncode == 0 and result.stdout, result.stderr
            assert "moved" not in result.stderr and "corrupt" not in result.stderr, result.stderr
            assert result.stderr.count("\n") <= 1, result.stderr
        assert run("deployments", "-o", "name").stdout == "deployments.apps\n"
        offline = run("deployments", "-o", "name", "--offline")
        assert offline.returncode == 0 and offline.stdout == "deployments.apps\n", offline.stderr
        exported = run("cache", "export", "-")
        assert exported.returncode == 0 and "exported 1 snapshot to stdout" in exported.stderr, exported.stderr
        assert len(json.loads(exported.stdout)["snapshots"]) == 1
        refreshed = run("deployments", "-o", "name", "--refresh")
        assert refreshed.stdout == "deployments.apps\n", refreshed.stderr
        assert refreshed.stderr.count("\n") == 1 and "read-only" in refreshed.stderr, refreshed.stderr
        assert not list(base.rglob("*.corrupt-*")) and not list((base / "home" / ".cache").glob("*corrupt*"))
        assert api.requests()["count"] > 0  # the refresh asked; only storing it was impossible
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_a_cache_of_the_previous_format_is_read_without_an_error(fake_apiserver, tmp_path):
    import diskcache

    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me, data = _exported(tmp_path, api)
    api.stop()
    entry = data["snapshots"][0]
    shutil.rmtree(me.cache_dir)
    # What the previous release wrote: whole entries as zlib-compressed JSON (diskcache's JSONDisk).
    old = diskcache.Cache(str(me.cache_dir), disk=diskcache.JSONDisk, disk_compress_level=0)
    old.set("snapshot:" + entry["identity"], entry)
    old.set("version:" + entry["identity"], "1.33")
    old.close()
    result = me("deployments", "-o", "name", "--offline")
    assert result.returncode == 0 and result.stdout == "deployments.apps\n", result.stderr
    assert result.stderr == ""
    assert [s["name"] for s in me.json("cache", "list")["snapshots"]] == ["fake"]


# --- a group whose discovery failed is not "not served" -----------------------


@pytest.mark.parametrize("aggregated", [True, False], ids=["aggregated-stale", "legacy-503"])
def test_a_word_of_a_failed_built_in_group_is_unknown_not_unserved(fake_apiserver, tmp_path, aggregated):
    api = fake_apiserver(release="1.33", token="t0ken-abc", aggregated=aggregated, fail_group_versions=["batch/v1"])
    me = user(tmp_path, api)
    result = me("jobs")
    assert result.returncode != 0
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("error: ") and "Traceback" not in result.stderr
    assert "not served" not in error and "1.37" not in error, error
    assert "unknown" in error and "batch/v1" in error and "failed" in error, error
    assert "Kubernetes 1.33 serves it as batch/v1" in error and "--refresh" in error, error
    data = json.loads(me("jobs", "-o", "json").stdout)
    assert [(f["resource"], f["groupVersion"]) for f in data["failedDiscovery"]] == [("jobs", "batch/v1")]
    # The API comes back: --refresh answers.
    api.set_faults(fail_group_versions=[])
    assert me("jobs", "-o", "name", "--refresh").stdout == "jobs.batch\n"


def test_a_failed_crd_group_is_resolved_from_the_previous_snapshot(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc", crd_groups=1)
    me = user(tmp_path, api)
    group = me.json("widgets")["resources"][0]["group"]
    api.set_faults(fail_group_versions=[f"{group}/v1"])
    assert me("refresh").returncode == 0
    result = me("widget")
    error = result.stderr.strip().splitlines()[-1]
    assert result.returncode != 0 and error.startswith("error: "), result.stderr
    assert "unknown" in error and f"{group}/v1" in error and "previous snapshot" in error, error
    assert "has no resource type" not in error
    # Still known after another failing refresh: the previous snapshot's knowledge is carried on.
    assert me("refresh").returncode == 0
    assert "previous snapshot" in me("widgets").stderr


# --- issue 10: generations, the TTL, an upgraded cluster --------------------------


def generations(cache_dir: Path) -> set[str]:
    db = sqlite3.connect(cache_dir / "cache.db")
    try:
        keys = [k for (k,) in db.execute("SELECT key FROM Cache WHERE typeof(key) = 'text' AND key LIKE 'gen:%'")]
    finally:
        db.close()
    return {":".join(k.split(":")[1:3]) for k in keys}


def pick(result) -> str:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["kubectlPick"]["groupVersion"]


def test_an_upgraded_cluster_is_noticed_after_the_ttl(fake_apiserver, tmp_path):
    import time

    old = fake_apiserver(release="1.28", token="t0ken-abc")
    me = user(tmp_path, old)
    before = pick(me("flowschemas", "-o", "json"))
    port = old.port
    old.stop()
    new = fake_apiserver(release="1.29", token="t0ken-abc", port=port)
    truth = pick(me("flowschemas", "-o", "json", "--cache-dir", str(tmp_path / "elsewhere")))
    assert truth != before  # what the test is about: the upgrade changes the answer
    new.reset()

    # Younger than the TTL: the snapshot answers, no request at all.
    assert pick(me("flowschemas", "-o", "json")) == before
    assert new.requests()["count"] == 0
    # After the TTL the first query revalidates and answers from the new discovery.
    me.env["KUBECTL_APIINFO_CACHE_TTL"] = "0"
    result = me("flowschemas", "-o", "json")
    assert pick(result) == truth and result.stderr == "", result.stderr
    assert json.loads(me("cache", "list", "-o", "json").stdout)["snapshots"][0]["kubernetesVersion"] == "1.29"
    # Unchanged since: conditional requests, answered 304, nothing else.
    new.reset()
    assert pick(me("flowschemas", "-o", "json")) == truth
    requests = new.requests()["requests"]
    assert sorted(r["path"] for r in requests) == ["/api", "/apis", "/version"], requests
    assert [r["status"] for r in requests if r["path"] != "/version"] == [304, 304]
    # --offline never touches the network, whatever the TTL.
    new.reset()
    assert pick(me("flowschemas", "-o", "json", "--offline")) == truth
    assert new.requests()["count"] == 0
    # A revalidated snapshot counts as fresh again for the default TTL.
    del me.env["KUBECTL_APIINFO_CACHE_TTL"]
    assert pick(me("flowschemas", "-o", "json")) == truth and new.requests()["count"] == 0

    # The server goes away: the snapshot answers within about a second, saying how old it is.
    me.env["KUBECTL_APIINFO_CACHE_TTL"] = "0"
    new.stop()
    start = time.monotonic()
    result = me("flowschemas", "-o", "json")
    assert time.monotonic() - start < 2.5
    assert pick(result) == truth
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "could not be reached" in lines[0] and "ago" in lines[0], result.stderr


def test_a_slow_server_delays_a_stale_answer_by_about_a_second(fake_apiserver, tmp_path):
    import time

    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = user(tmp_path, api)
    me.json("deployments")
    api.set_faults(latency_ms=8000)
    me.env["KUBECTL_APIINFO_CACHE_TTL"] = "1ms"
    start = time.monotonic()
    result = me("deployments", "-o", "name")
    elapsed = time.monotonic() - start
    assert result.stdout == "deployments.apps\n", result.stderr
    assert elapsed < 3, elapsed
    assert result.stderr.count("\n") == 1 and "could not be reached" in result.stderr, result.stderr


def test_a_bad_cache_ttl_in_the_environment_is_one_line(tmp_path):
    env = Env(tmp_path / "home", KUBECTL_APIINFO_CACHE_TTL="soon")
    (tmp_path / "kubeconfig").write_text("apiVersion: v1\nkind: Config\n")
    env.env["KUBECONFIG"] = str(tmp_path / "kubeconfig")
    env.env["KUBECTL_APIINFO_CACHE_TTL"] = "soon"
    assert_one_line_error(env("deployments", "-s", "https://127.0.0.1:1"), "KUBECTL_APIINFO_CACHE_TTL", "duration")


def test_an_imported_snapshot_is_never_dropped_for_its_age_but_shows_it(fake_apiserver, tmp_path):
    import time

    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me, data = _exported(tmp_path, api)
    data["snapshots"][0]["fetchedAt"] = time.time() - 3 * 86400
    bundle = tmp_path / "old.json"
    bundle.write_text(json.dumps(data))
    api.stop()
    airgap = Env(tmp_path / "airgap", tmp_path / "kubeconfig")
    assert airgap("cache", "import", str(bundle)).returncode == 0
    result = airgap("deployments", "-o", "name")
    assert result.returncode == 0 and result.stdout == "deployments.apps\n", result.stderr
    assert result.stderr.count("\n") == 1 and "3d ago" in result.stderr and "imported" in result.stderr, result.stderr
    assert airgap("deployments", "-o", "name", "--offline").stderr == ""


def test_refreshes_leave_one_generation_even_when_killed_or_concurrent(fake_apiserver, tmp_path):
    import signal
    import time

    api = fake_apiserver(release="1.33", token="t0ken-abc", crd_groups=300)
    me = user(tmp_path, api)
    before = me.json("resources")
    assert len(generations(me.cache_dir)) == 1
    for _ in range(2):
        assert me("refresh").returncode == 0
    assert len(generations(me.cache_dir)) == 1
    # Killed at different moments, fetching or writing: the previous generation answers whole.
    for delay in (0.05, 0.15, 0.25, 0.35, 0.5, 0.7):
        p = subprocess.Popen([str(COMMAND), "refresh"], env=me.env, cwd=me.home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        assert me.json("resources", "--offline") == before
    # Several at once.
    procs = [subprocess.Popen([str(COMMAND), "refresh"], env=me.env, cwd=me.home, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(4)]
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    assert me.json("resources", "--offline") == before
    assert len(generations(me.cache_dir)) == 1


def test_a_question_about_one_word_reads_only_its_groups_and_answers_the_same(fake_apiserver, tmp_path):
    from kubectl_apiinfo.answers import show as show_answers
    from kubectl_apiinfo.sources import select
    from kubectl_apiinfo.sources.cluster.flags import ClusterFlags
    from kubectl_apiinfo.sources.snapshots.store import SnapshotCache

    api = fake_apiserver(release="1.33", token="t0ken-abc", crd_groups=50, metrics=True)
    me = user(tmp_path, api)
    me.json("deployments")
    flags = ClusterFlags(kubeconfig=str(tmp_path / "kubeconfig"), cache_dir=str(me.cache_dir), offline=True)
    words = ["deployments", "deploy", "Deployment", "deployments.apps", "deployments.v1.apps", "pods", "po",
             "widgets", "widget.g0007.example.com", "widgets.v1.g0007.example.com", "deployments.v9.apps", "nodes",
             "events", "ev", "jobs.batch", "nosuchthing", "hpa", "svc", "Widget.G0003.Example.Com"]
    for word in words:
        full = select.for_query(flags, None)
        partial = select.for_query(flags, None, words=[word])
        if word in ("deployments", "pods", "widget.g0007.example.com"):
            assert len(partial.snapshot.groups) <= 2 < len(full.snapshot.groups), (word, [g.name for g in partial.snapshot.groups])
        try:
            expected = show_answers.explain(full, word)
        except Exception as e:  # noqa: BLE001 - the same error, then
            with pytest.raises(type(e), match=re.escape(str(e))):
                show_answers.explain(partial, word)
            continue
        assert show_answers.explain(partial, word) == expected, word
    with SnapshotCache(str(me.cache_dir), warn=print) as cache:
        assert len(cache.entries()) == 1


def test_completion_offers_what_the_cached_snapshot_serves(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc", crd_groups=30, metrics=True)
    me = user(tmp_path, api)
    rows = me.json("resources")["resources"]
    expected = {r["name"] for r in rows} | {f"{r['name']}.{r['group']}" for r in rows if r["group"]}
    api.stop()
    result = subprocess.run([str(COMMAND.parent / "kubectl_complete-apiinfo"), "__complete", ""],
                            capture_output=True, text=True, env=me.env, cwd=me.home)
    offered = set(result.stdout.splitlines()[:-1])
    assert expected <= offered and "widgets.g0030.example.com" in offered, sorted(expected - offered)[:5]
    assert not {o for o in offered - expected if "." in o}  # no name the cluster does not serve


def test_a_legacy_server_is_checked_with_three_requests_and_its_upgrade_noticed(fake_apiserver, tmp_path):
    old = fake_apiserver(release="1.24", token="t0ken-abc", aggregated=False)
    me = user(tmp_path, old)
    psp = me("podsecuritypolicies", "-o", "json")
    assert pick(psp) == "policy/v1beta1"
    me.env["KUBECTL_APIINFO_CACHE_TTL"] = "0"
    old.reset()
    assert pick(me("podsecuritypolicies", "-o", "json")) == "policy/v1beta1"
    assert sorted(r["path"] for r in old.requests()["requests"]) == ["/api", "/apis", "/version"]
    port = old.port
    old.stop()
    new = fake_apiserver(release="1.25", token="t0ken-abc", aggregated=False, port=port)
    result = me("podsecuritypolicies", "-o", "json")
    assert new.requests()["count"] > 3  # the listing changed: read in full
    assert json.loads(result.stdout)["kubectlPick"] is None, result.stdout[:300]
    assert json.loads(me("cache", "list", "-o", "json").stdout)["snapshots"][0]["kubernetesVersion"] == "1.25"


def test_every_catalog_release_comes_back_from_the_store_as_it_went_in(tmp_path):
    import time

    from kubectl_apiinfo.sources.catalog import releases
    from kubectl_apiinfo.sources.snapshots.entry import Entry
    from kubectl_apiinfo.sources.snapshots.store import SnapshotCache

    warnings = []
    with SnapshotCache(str(tmp_path / "cache"), warnings.append) as cache:
        for name in releases.release_names():
            snapshot = releases.load_release(name)
            cache.put(Entry(f"id-{name}", name, "https://example", snapshot, time.time()))
            back = cache.get(f"id-{name}")
            assert back is not None and back.snapshot == snapshot, name
            # One word: only the groups that name it, each whole.
            part = cache.get(f"id-{name}", [("deployments", None, None)]).snapshot
            assert [g.name for g in part.groups] == [g.name for g in snapshot.groups if any(
                r.name == "deployments" for _, _, r in type(snapshot)(snapshot.source, [g]).iter_resources(served_only=False))]
            assert all(g == snapshot.group(g.name) for g in part.groups)
    assert warnings == []


def test_snapshot_names_come_from_the_heads_alone(fake_apiserver, tmp_path):
    from kubectl_apiinfo.sources.snapshots.store import SnapshotCache

    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = user(tmp_path, api)
    me.json("deployments")
    flip_a_byte(me.cache_dir)  # the groups, not the head
    with SnapshotCache(str(me.cache_dir), warn=pytest.fail) as cache:
        assert list(cache.names().values()) == ["fake"]


@pytest.mark.parametrize("planted", ["../victim.txt", "{outside}/victim.txt", "sub/../../victim.txt"])
@pytest.mark.parametrize("how", [("cache", "list"), ("cache", "clear"), ("deployments", "-o", "name")])
def test_a_row_naming_a_file_outside_the_cache_deletes_nothing(fake_apiserver, tmp_path, planted, how):
    """A damaged or planted row names its value's file: dropping the row never removes a file outside the cache."""
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = user(tmp_path, api)
    me.json("deployments")
    victim = me.cache_dir.parent / "victim.txt"
    victim.write_text("not the cache's")
    db = sqlite3.connect(me.cache_dir / "cache.db")
    try:
        [(head,)] = db.execute("SELECT key FROM Cache WHERE key LIKE 'head:%'").fetchall()
        name = planted.format(outside=me.cache_dir.parent)
        db.execute("UPDATE Cache SET mode = 3, filename = ?, value = NULL WHERE key = ?", (name, head))
        db.commit()
    finally:
        db.close()
    result = me(*how)
    assert "Traceback" not in result.stderr
    assert victim.read_text() == "not the cache's", result.stderr


def test_export_writes_a_regular_file_whole_and_never_replaces_a_device(fake_apiserver, tmp_path):
    """A regular file is replaced through a private temporary file; a device is written to, and stays a device."""
    import stat

    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = user(tmp_path, api)
    me.json("deployments")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    bundle = out_dir / "bundle.json"
    bundle.write_text("an older bundle")
    result = me("cache", "export", str(bundle))
    assert result.returncode == 0, result.stderr
    assert json.loads(bundle.read_text())["kind"] == "KubectlApiinfoBundle"
    assert stat.S_IMODE(bundle.stat().st_mode) == 0o600, "a bundle holds cluster facts: only its owner reads it"
    assert sorted(p.name for p in out_dir.iterdir()) == ["bundle.json"], "no temporary file is left"
    if os.geteuid() != 0:
        pytest.skip("making a device node needs root (CI runs as root)")
    device = out_dir / "null"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # the same device as /dev/null
    result = me("cache", "export", str(device))
    assert result.returncode == 0, result.stderr
    assert stat.S_ISCHR(device.stat().st_mode), "the device is still a device"
    assert sorted(p.name for p in out_dir.iterdir()) == ["bundle.json", "null"]


def test_export_follows_no_symlink_planted_at_a_temporary_name(fake_apiserver, tmp_path):
    """Whoever can write the export's folder may plant symlinks where a temporary file would go (a name from the
    pid, as 'FILE.tmp-<pid>' was): the export's temporary file is created exclusively under a name no one can
    guess, so a planted link is never written through."""
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = user(tmp_path, api)
    me.json("deployments")
    out_dir = tmp_path / "shared-out"
    out_dir.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("not the bundle's")
    with open("/proc/sys/kernel/ns_last_pid") as f:  # pids are handed out in order: the next few hundred
        last = int(f.read())
    for pid in range(last + 1, last + 400):
        (out_dir / f"bundle.json.tmp-{pid}").symlink_to(victim)
        (out_dir / f".bundle.json.tmp-{pid}").symlink_to(victim)
    result = me("cache", "export", str(out_dir / "bundle.json"))
    assert result.returncode == 0, result.stderr
    assert victim.read_text() == "not the bundle's"
    assert json.loads((out_dir / "bundle.json").read_text())["kind"] == "KubectlApiinfoBundle"
    assert not (out_dir / "bundle.json").is_symlink()


def test_a_doctored_document_under_anothers_hash_answers_for_its_own_cluster_only(cli, fake_apiserver, tmp_path):
    """Documents are shared between clusters under their hash only once their bytes have that hash."""
    rogue = fake_apiserver(release="1.33", token="a-token", doctored_openapi=["apis/apps/v1"])
    honest = fake_apiserver(release="1.33", token="b-token")
    config, _ = two_contexts(tmp_path, rogue, honest)  # 'one' is the rogue cluster, 'two' the honest one
    cli.env["KUBECONFIG"] = str(config)
    first = cli("explain", "deployments.spec", "--context", "one", "-o", "plaintext")
    assert first.returncode == 0 and "DOCTORED" in first.stdout, first.stderr  # what the rogue cluster serves
    assert "do not match the hash it announced" in first.stderr
    for refresh in ([], ["--refresh"]):
        second = cli("explain", "deployments.spec", "--context", "two", "-o", "plaintext", *refresh)
        assert second.returncode == 0, second.stderr
        assert "DOCTORED" not in second.stdout and "DeploymentSpec is the specification" in second.stdout
    again = cli("explain", "deployments.spec", "--context", "one", "-o", "plaintext", "--offline")
    assert "DOCTORED" in again.stdout, "the rogue cluster's own answer is kept for it"


def test_a_bundles_documents_never_replace_what_a_cluster_served(fake_apiserver, tmp_path):
    """An imported document cannot be checked against its hash: it answers for the bundle's clusters only."""
    from kubectl_apiinfo.sources.snapshots.store import SnapshotCache

    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = user(tmp_path, api)
    assert me("explain", "deployments.spec", "-o", "plaintext").returncode == 0
    with SnapshotCache(str(me.cache_dir), warn=pytest.fail) as cache:
        [identity] = cache.names()
        digest = cache.value("openapi:index:" + identity)["paths"]["apis/apps/v1"]
        doctored = cache.value("openapi:doc:" + digest)  # the real document, every description changed
    for definition in doctored["defs"].values():
        definition["description"] = "DOCTORED " + definition.get("description", "")
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({
        "kind": "KubectlApiinfoBundle", "schemaVersion": 1, "snapshots": [],
        "openapi": {"indexes": {"elsewhere": {"fetchedAt": 1.7e9, "v2": False, "paths": {"apis/apps/v1": digest}}},
                    "documents": {digest: doctored}},
    }))
    assert me("cache", "import", str(bundle)).returncode == 0
    for how in (["--offline"], ["--refresh"]):
        result = me("explain", "deployments.spec", "-o", "plaintext", *how)
        assert result.returncode == 0, result.stderr
        assert "DOCTORED" not in result.stdout and "DeploymentSpec is the specification" in result.stdout
