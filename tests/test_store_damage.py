"""The cache touches nothing but its own files: a full disk or a read-only cache is not damage, a folder
the plugin did not make keeps its mode and its other files, and a malformed database (an index too,
found on writing) is moved aside and rebuilt; the real command against the fake API server."""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import COMMAND, assert_one_line_error
from test_cluster import Env, user

JUNK = b"this is not a database" * 100


def only_warning(result: subprocess.CompletedProcess) -> str:
    """The one line on stderr, a warning."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: "), result.stderr
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr
    return lines[0]


# --- a folder the plugin did not make ----------------------------------------------


def users_folder(path: Path) -> Path:
    """A cache folder the user made, readable by all, with a file of theirs in it."""
    path.mkdir(parents=True)
    os.chmod(path, 0o755)
    (path / "notes.txt").write_text("the user's own notes\n")
    return path


def test_an_existing_cache_folder_keeps_its_mode(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = user(tmp_path, api)
    users_folder(me.cache_dir)
    for args in (("cache", "list"), ("deployments", "-o", "name"), ("refresh",)):
        result = me(*args)
        assert result.returncode == 0 and result.stderr == "", result.stderr
        assert stat.S_IMODE(me.cache_dir.stat().st_mode) == 0o755, args
    assert (me.cache_dir / "notes.txt").read_text() == "the user's own notes\n"
    # The folder is the user's to open to others; the store's own file is private anyway.
    assert stat.S_IMODE((me.cache_dir / "cache.db").stat().st_mode) == 0o600


def test_a_folder_the_plugin_makes_is_private(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = user(tmp_path, api)
    made = tmp_path / "new" / "cache"
    assert me("deployments", "-o", "name", "--cache-dir", str(made)).returncode == 0
    assert stat.S_IMODE(made.stat().st_mode) == 0o700


def test_a_symlinked_cache_dir_leaves_its_targets_mode_alone(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = user(tmp_path, api)
    target = users_folder(tmp_path / "shared-folder")
    link = tmp_path / "link"
    link.symlink_to(target)
    for args in (("cache", "list"), ("deployments", "-o", "name")):
        result = me(*args, "--cache-dir", str(link))
        assert result.returncode == 0 and result.stderr == "", result.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    assert (target / "cache.db").exists() and link.is_symlink()


def asides(cache_dir: Path, junk: bytes) -> list[Path]:
    return [p for p in cache_dir.rglob("*") if p.is_file() and p.read_bytes() == junk]


def test_a_corrupt_cache_moves_aside_only_its_own_files_and_keeps_one_copy(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = user(tmp_path, api)
    users_folder(me.cache_dir)
    (me.cache_dir / "mine").mkdir()
    (me.cache_dir / "mine" / "keep.txt").write_text("also theirs")
    outside = sorted(p.name for p in me.cache_dir.parent.iterdir())
    for round_ in (1, 2, 3):
        me.json("deployments")
        junk = JUNK + b"round %d" % round_
        (me.cache_dir / "cache.db").write_bytes(junk)
        result = me("deployments", "-o", "name")
        assert result.returncode == 0 and result.stdout == "deployments.apps\n", result.stderr
        warning = only_warning(result)
        assert "unreadable" in warning and "not a database" in warning, warning
        [aside] = asides(me.cache_dir, junk)  # the evidence, kept inside the cache folder
        assert aside.name == "cache.db" and aside.parent != me.cache_dir and str(aside.parent) in warning, warning
        assert len(list(me.cache_dir.rglob("cache.db"))) == 2, "one copy aside, the new cache"
        assert (me.cache_dir / "notes.txt").read_text() == "the user's own notes\n"
        assert (me.cache_dir / "mine" / "keep.txt").read_text() == "also theirs"
        assert stat.S_IMODE(me.cache_dir.stat().st_mode) == 0o755
        assert sorted(p.name for p in me.cache_dir.parent.iterdir()) == outside, "nothing beside the cache folder"
    assert me("deployments", "-o", "name", "--offline").stderr == ""


def test_value_files_of_a_corrupt_cache_go_aside_with_it(fake_apiserver, tmp_path):
    """The previous format kept large values in files of diskcache's own sub-folders: they are the store's too."""
    import diskcache

    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = user(tmp_path, api)
    users_folder(me.cache_dir)
    old = diskcache.Cache(str(me.cache_dir), disk=diskcache.JSONDisk, disk_compress_level=0)
    old.set("snapshot:big", {"padding": "x" * 100_000})
    old.close()
    [value_file] = [p for p in me.cache_dir.rglob("*.val")]
    (me.cache_dir / "cache.db").write_bytes(JUNK)
    result = me("deployments", "-o", "name")
    assert result.returncode == 0 and result.stdout == "deployments.apps\n", result.stderr
    assert "unreadable" in only_warning(result)
    assert not value_file.exists()
    [moved] = [p for p in me.cache_dir.rglob("*.val")]
    assert moved.name == value_file.name and moved.parent.parent.parent == asides(me.cache_dir, JUNK)[0].parent
    assert (me.cache_dir / "notes.txt").read_text() == "the user's own notes\n"


def test_a_link_where_the_aside_folder_goes_is_not_followed(fake_apiserver, tmp_path):
    """The aside folder is the store's own, but a link in its place leads outside: nothing there is deleted."""
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = user(tmp_path, api)
    me.json("deployments")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "cache.db").write_text("someone else's cache.db")
    (me.cache_dir / "corrupt").symlink_to(elsewhere)
    (me.cache_dir / "cache.db").write_bytes(JUNK)
    result = me("deployments", "-o", "name")
    assert_one_line_error(result, "unreadable", "cannot be moved aside", str(me.cache_dir / "corrupt"))
    assert (elsewhere / "cache.db").read_text() == "someone else's cache.db"
    assert sorted(p.name for p in elsewhere.iterdir()) == ["cache.db"]
    assert (me.cache_dir / "cache.db").read_bytes() == JUNK, "the evidence stays where it was"


# --- a full disk, a read-only cache: not damage ---------------------------------


def run_limited(me: Env, file_size: int, *args: str) -> subprocess.CompletedProcess:
    """The command with every file write past file_size bytes failing (EFBIG, as a full disk fails it with ENOSPC)."""

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails instead of the process dying
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))

    return subprocess.run([str(COMMAND), *args], capture_output=True, text=True, env=me.env, cwd=me.home,
                          preexec_fn=limit, timeout=60)


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def generations(cache_dir: Path) -> set[str]:
    """The snapshot generations in the database, read as a file (its folder may be read-only)."""
    db = sqlite3.connect(f"file:{cache_dir / 'cache.db'}?mode=ro&immutable=1", uri=True)
    try:
        keys = [k for (k,) in db.execute("SELECT key FROM Cache WHERE typeof(key) = 'text' AND key LIKE 'gen:%'")]
    finally:
        db.close()
    return {":".join(k.split(":")[1:3]) for k in keys}


def assert_cached_answer_survives(me: Env, api, before: set) -> None:
    """Offline, the snapshot stored before answers, quietly and without a request."""
    api.reset()
    offline = me("deployments", "-o", "name", "--offline")
    assert offline.returncode == 0 and offline.stdout == "deployments.apps\n", offline.stderr
    assert offline.stderr == ""
    assert api.requests()["count"] == 0
    assert generations(me.cache_dir) == before


def test_writes_failing_past_a_size_limit_keep_the_cache_and_answer(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = user(tmp_path, api)
    me.json("deployments")
    bundle = tmp_path / "bundle.json"
    assert me("cache", "export", str(bundle)).returncode == 0
    before = generations(me.cache_dir)
    # Room for the reader's shared-memory file (32 KB), not for a new generation.
    result = run_limited(me, 36 * 1024, "deployments", "-o", "name", "--refresh")
    assert result.returncode == 0 and result.stdout == "deployments.apps\n", result.stderr
    warning = only_warning(result)
    assert "could not store the snapshot of fake" in warning and str(me.cache_dir) in warning, warning
    assert "answering without caching it" in warning and "unreadable" not in warning, warning
    assert [p.name for p in me.cache_dir.iterdir() if p.is_dir()] == [], "nothing moved aside"
    # A command whose whole point is to change the cache fails, in one line, and changes nothing.
    assert_one_line_error(run_limited(me, 36 * 1024, "cache", "clear"), "could not drop the snapshots", "nothing was dropped")
    assert_one_line_error(run_limited(me, 36 * 1024, "cache", "import", str(bundle)), "could not store", "nothing was imported")
    assert_cached_answer_survives(me, api, before)


@pytest.fixture
def small_filesystem(tmp_path):
    """A 1 MB tmpfs of its own, mounted for the test (root only); remount(ro=True) makes it read-only."""
    where = tmp_path / "small"
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", str(where)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here ({mounted.stderr.strip()}); the size-limit test stands in")

    class Small:
        path = where

        @staticmethod
        def fill(leave: int) -> None:
            """Fill the filesystem, leaving `leave` bytes free."""
            with open(where / "filler", "wb", buffering=0) as f:
                try:
                    while True:
                        f.write(b"\0" * 65536)
                except OSError:
                    pass
                f.truncate(max(0, f.tell() - leave))

        @staticmethod
        def remount(ro: bool) -> None:
            subprocess.run(["mount", "-o", "remount," + ("ro" if ro else "rw"), str(where)], check=True)

    try:
        yield Small
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def user_caching_on(small, tmp_path, api) -> Env:
    me = user(tmp_path, api)
    me.cache_dir = small.path / "kubectl-apiinfo"
    me.env["KUBECTL_APIINFO_CACHE_DIR"] = str(me.cache_dir)
    return me


def test_a_full_disk_keeps_the_cache_and_answers(fake_apiserver, tmp_path, small_filesystem):
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = user_caching_on(small_filesystem, tmp_path, api)
    me.json("deployments")
    before = generations(me.cache_dir)
    small_filesystem.fill(leave=48 * 1024)  # the reader's 32 KB, then a little of the new generation
    result = me("deployments", "-o", "name", "--refresh")
    assert result.returncode == 0 and result.stdout == "deployments.apps\n", result.stderr
    warning = only_warning(result)
    assert "could not store the snapshot of fake" in warning and "(disk full)" in warning, warning
    assert [p.name for p in me.cache_dir.iterdir() if p.is_dir()] == [], "nothing moved aside"
    assert_one_line_error(me("cache", "clear"), "(disk full)", "nothing was dropped")
    assert_cached_answer_survives(me, api, before)


def test_a_read_only_filesystem_keeps_the_cache_and_answers(fake_apiserver, tmp_path, small_filesystem):
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = user_caching_on(small_filesystem, tmp_path, api)
    me.json("deployments")
    before = generations(me.cache_dir)
    kept = files_under(me.cache_dir)
    small_filesystem.remount(ro=True)
    result = me("deployments", "-o", "name", "--refresh")
    assert result.returncode == 0 and result.stdout == "deployments.apps\n", result.stderr
    assert "read-only" in only_warning(result)
    assert_cached_answer_survives(me, api, before)
    assert files_under(me.cache_dir) == kept


# --- a malformed database, found on reading or on writing ------------------------


def damage_index(db_path: Path, index: str) -> None:
    """Junk over the root page of one index of a real cache; the header and the table stay whole."""
    assert not Path(f"{db_path}-wal").exists() or Path(f"{db_path}-wal").stat().st_size == 0
    db = sqlite3.connect(db_path)
    try:
        [(rootpage,)] = db.execute("SELECT rootpage FROM sqlite_master WHERE type = 'index' AND name = ?", (index,))
        [(page_size,)] = db.execute("PRAGMA page_size")
    finally:
        db.close()
    with open(db_path, "r+b") as f:
        f.seek((rootpage - 1) * page_size)
        f.write(b"\xde\xad\xbe\xef" * (page_size // 4))
    assert integrity(db_path) != "ok"


def integrity(db_path: Path) -> str:
    db = sqlite3.connect(db_path)
    try:
        return "\n".join(row[0] for row in db.execute("PRAGMA integrity_check"))
    except sqlite3.DatabaseError as e:
        return str(e)
    finally:
        db.close()


# Only writes use the expiry index, and --refresh writes first; every read by key uses the key index.
@pytest.mark.parametrize("index,refresh", [("Cache_expire_time", ["--refresh"]), ("Cache_key_raw", [])],
                         ids=["found-on-writing", "found-on-reading"])
def test_a_damaged_index_is_moved_aside_and_the_cache_rebuilt(fake_apiserver, tmp_path, index, refresh):
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = user(tmp_path, api)
    users_folder(me.cache_dir)
    me.json("deployments")
    damage_index(me.cache_dir / "cache.db", index)
    result = me("deployments", "-o", "name", *refresh)
    assert result.returncode == 0 and result.stdout == "deployments.apps\n", result.stderr
    warning = only_warning(result)
    assert "malformed" in warning and "moved" in warning, warning
    [aside] = [p for p in me.cache_dir.rglob("cache.db") if p.parent != me.cache_dir]
    assert str(aside.parent) in warning and integrity(aside) != "ok", "the damaged database, kept as evidence"
    assert integrity(me.cache_dir / "cache.db") == "ok"
    assert (me.cache_dir / "notes.txt").read_text() == "the user's own notes\n"
    # What the cluster answered was stored in the new cache: offline it answers, quietly.
    api.reset()
    offline = me("deployments", "-o", "name", "--offline")
    assert offline.returncode == 0 and offline.stdout == "deployments.apps\n" and offline.stderr == "", offline.stderr
    assert api.requests()["count"] == 0
