"""The cache touches nothing but its own files: a folder the plugin did not make keeps its mode and its
other files, and a corrupt database goes aside inside it; the real command against the fake API server."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from test_cluster import user

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
