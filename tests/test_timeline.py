"""timeline: the chart of when each group/version came, was deprecated and went, run as a user runs it (in a
subprocess, on a terminal and piped), its -o json checked against the catalog's own releases."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import termios

import pytest

from conftest import COMMAND, assert_one_line_error
from kubectl_apiinfo.model import release_key
from kubectl_apiinfo.sources.catalog import releases

ANSI = re.compile(r"\x1b\[[0-9;]*m")
SERVING = {"alpha", "beta", "stable", "deprecated"}


def on_a_terminal(cli, *args: str, columns: int = 80, **env: str) -> str:
    """What the command writes to a terminal columns wide (a pty), without the pty's carriage returns."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    process = subprocess.Popen([str(COMMAND), *args], stdout=slave, stderr=subprocess.PIPE, cwd=cli.home,
                               env={**cli.env, "COLUMNS": str(columns), "TERM": "xterm-256color", **env})
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert process.wait(timeout=60) == 0, process.stderr.read()
    on_a_terminal.stderr = process.stderr.read().decode()
    return b"".join(chunks).decode().replace("\r\n", "\n")


def columns_of(text: str) -> dict:
    """{column label: (start, end)} read off the header line of a chart whose columns are named in full."""
    header = next(line for line in text.splitlines() if line.startswith("GROUP/VERSION"))
    return {m.group(): (m.start(), m.end()) for m in re.finditer(r"1\.\d+(?:–1\.\d+)?", header)}


def cell(text: str, label: str, release: str) -> str:
    """The character a row (by its label) shows for a release, wherever the chart put that release."""
    line = next(l for l in text.splitlines() if l.split("  ")[0].strip() == label or l.startswith(label + " "))
    for name, (start, end) in columns_of(text).items():
        first, _, last = name.partition("–")
        if release_key(first) <= release_key(release) <= release_key(last or first):
            return line.ljust(end)[start]
    raise AssertionError(f"no column holds {release}")


def check_ingresses_at_1_21(text: str) -> None:
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80, max(lines, key=len)
    names = columns_of(text)
    assert "1.21" in names, "the marked release is a column of its own"
    marker = next(i for i, line in enumerate(lines) if "\u25bc" in line)
    assert lines[marker + 1].startswith("GROUP/VERSION")
    start, end = names["1.21"]
    assert start <= lines[marker].index("\u25bc") < end, "the marker stands over 1.21"
    for label in ("extensions/v1beta1", "networking.k8s.io/v1beta1"):
        assert [cell(text, label, r) for r in ("1.20", "1.21", "1.22", "1.23")] == ["d", "d", "x", " "], label
    assert cell(text, "networking.k8s.io/v1beta1", "1.18") == "b"
    assert [cell(text, "networking.k8s.io/v1", r) for r in ("1.18", "1.19", "1.21", "1.37")] == [" ", "\u2588", "\u2588", "\u2588"]
    assert "▼ 1.21" in text and "d deprecated" in text and "x removed" in text


def test_ingresses_at_1_21_fit_80_columns_on_a_terminal_and_piped(cli):
    shown = on_a_terminal(cli, "timeline", "ingresses", "--kube-version", "1.21", "--color=never")
    check_ingresses_at_1_21(shown)
    piped = cli("timeline", "ingresses", "--kube-version", "1.21")
    assert piped.returncode == 0 and piped.stderr == "", piped.stderr
    check_ingresses_at_1_21(piped.stdout)
    assert piped.stdout == shown, "a pipe gets the chart an 80-column terminal gets"
    wide = cli("timeline", "ingresses", "--kube-version", "1.21", "-o", "wide").stdout
    assert len(columns_of(wide)) == len(releases.release_names()), "-o wide gives every release its own column"
    check_ingresses_at_1_21_wide = [cell(wide, "networking.k8s.io/v1", r) for r in ("1.18", "1.19")]
    assert check_ingresses_at_1_21_wide == [" ", "\u2588"]


def test_a_wider_terminal_gets_every_release_and_a_narrow_one_a_note(cli):
    shown = on_a_terminal(cli, "timeline", "ingresses", "--kube-version", "1.21", "--color=never", columns=200)
    assert len(columns_of(shown)) == len(releases.release_names())
    assert on_a_terminal.stderr == ""
    cramped = on_a_terminal(cli, "timeline", "ingresses", "--kube-version", "1.21", "--color=never", columns=40)
    lines = on_a_terminal.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: the timeline needs ") and "has 40" in lines[0], lines
    needs = int(lines[0].split("needs ")[1].split()[0])
    assert needs > 40 and max(len(line) for line in cramped.splitlines()[:6]) == needs, "printed all the same, as wide as it said"
    narrow = subprocess.run([str(COMMAND), "timeline", "--all"], capture_output=True, text=True, env={**cli.env}, cwd=cli.home)
    assert narrow.returncode == 0 and max(len(line) for line in narrow.stdout.splitlines()) <= 80, "--all fits 80 too"


def test_colour_only_when_wanted(cli):
    line = ("timeline", "ingresses", "--kube-version", "1.21")
    assert ANSI.search(on_a_terminal(cli, *line)), "a terminal gets colour"
    assert not ANSI.search(on_a_terminal(cli, *line, NO_COLOR="1")), "NO_COLOR"
    assert not ANSI.search(on_a_terminal(cli, *line, "--color=never"))
    assert not ANSI.search(cli(*line).stdout), "a pipe gets none"
    painted = cli(*line, "--color", "always").stdout
    assert "\x1b[38;5;" in painted
    assert ANSI.sub("", painted) == cli(*line).stdout, "colour only paints the characters, it changes none"


def test_a_stream_that_cannot_encode_the_chart_gets_ascii(cli):
    result = cli("timeline", "ingresses", "--kube-version", "1.21", env={**cli.env, "PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0, result.stderr
    assert "=" in result.stdout.splitlines()[4] and "1.15-1.18" in result.stdout and result.stdout.lstrip().startswith("v")


# --- -o json against the catalog's own releases -----------------------------------------


def _states_in_release(release: str) -> dict:
    """(group/version, kind) -> what release serves of it: 'served' or 'off'; from the release's own snapshot."""
    snapshot = releases.load_release(release)
    found = {}
    for g, gv, r in snapshot.iter_resources(served_only=False):
        key = (f"{g.name}/{gv.version}" if g.name else gv.version, r.kind)
        found[key] = "served" if r.served or found.get(key) == "served" else "off"
    return found


@pytest.fixture(scope="module")
def catalog_states() -> dict:
    return {r: _states_in_release(r) for r in releases.release_names()}


def _agrees(state: str, previous: str | None, now: str | None, version: str, deprecated: str | None, release: str) -> bool:
    if now == "served":
        if deprecated and release_key(release) >= release_key(deprecated):
            return state == "deprecated"
        level = "stable" if re.fullmatch(r"v\d+", version) else re.sub(r"v\d+(alpha|beta)\d+", r"\1", version)
        return state == level
    if now == "off":
        return state == "off"
    return state == ("removed" if previous else "absent")


def test_json_for_ingresses_is_the_catalogs_history(cli, catalog_states):
    answer = cli.json("timeline", "ingresses", "--kube-version", "1.21")
    names = releases.release_names()
    assert answer["kind"] == "Timeline" and answer["releases"] == names and answer["marked"] == "1.21"
    assert answer["states"] == ["absent", "off", "alpha", "beta", "stable", "deprecated", "removed", "unknown"]
    assert answer["source"]["kind"] == "catalog" and answer["source"]["kubernetesVersion"] == "1.21"
    rows = {r["groupVersion"]: r for r in answer["rows"]}
    assert set(rows) == {"extensions/v1beta1", "networking.k8s.io/v1beta1", "networking.k8s.io/v1"}
    for gv in ("extensions/v1beta1", "networking.k8s.io/v1beta1"):
        row = rows[gv]
        assert row["cells"][names.index("1.21")] == "deprecated" and row["cells"][names.index("1.22")] == "removed"
        assert row["removed"] == "1.22" and row["replacement"] == "networking.k8s.io/v1 Ingress"
    first = next(i for i, c in enumerate(rows["networking.k8s.io/v1"]["cells"]) if c != "absent")
    assert (names[first], rows["networking.k8s.io/v1"]["cells"][first]) == ("1.19", "stable")
    for row in answer["rows"]:
        assert set(row) >= {"groupVersion", "kind", "resource", "custom", "cells", "introduced", "deprecated", "removed", "replacement"}
        assert row["kind"] == "Ingress" and row["resource"] == "ingresses" and row["custom"] is False
        assert len(row["cells"]) == len(names)
        version = row["groupVersion"].rpartition("/")[2]
        for i, release in enumerate(names):
            now = catalog_states[release].get((row["groupVersion"], row["kind"]))
            previous = catalog_states[names[i - 1]].get((row["groupVersion"], row["kind"])) if i else None
            assert _agrees(row["cells"][i], previous, now, version, row["deprecated"], release), (row["groupVersion"], release)


def test_a_group_word_charts_each_of_its_versions(cli, catalog_states):
    answer = cli.json("timeline", "apps", "core", "--kube-version", "1.25")
    names = releases.release_names()
    expected = sorted({gv for states in catalog_states.values() for gv, _ in states if gv.startswith("apps/")} | {"v1"})
    assert sorted(r["groupVersion"] for r in answer["rows"]) == expected
    for row in answer["rows"]:
        assert row["kind"] is None and row["kinds"]
        for i, release in enumerate(names):
            kinds = {k: s for (gv, k), s in catalog_states[release].items() if gv == row["groupVersion"]}
            before = [k for (gv, k) in catalog_states[names[i - 1]] if gv == row["groupVersion"]] if i else []
            state = row["cells"][i]
            if "served" in kinds.values():
                assert state in SERVING, (row["groupVersion"], release)
            elif kinds:
                assert state == "off", (row["groupVersion"], release)
            else:
                assert state == ("removed" if before else "absent"), (row["groupVersion"], release)
    text = cli("timeline", "apps", "--kube-version", "1.25").stdout
    assert text.splitlines()[1].startswith("GROUP/VERSION ") and "apps/v1beta2" in text and "▼" in text.splitlines()[0]


def test_all_charts_every_group_version_of_every_release(cli, catalog_states):
    answer = cli.json("timeline", "--all")
    everything = {gv for states in catalog_states.values() for gv, _ in states}
    assert {r["groupVersion"] for r in answer["rows"]} == everything
    assert len(answer["rows"]) == len(everything), "each once"
    assert answer["marked"] == releases.newest(), "with no cluster and no release named, the newest answers"


def test_words_that_name_nothing_are_one_line_of_error(cli):
    assert_one_line_error(cli("timeline", "nosuchthing"), "'nosuchthing'")
    assert_one_line_error(cli("timeline", "ingresss"), "did you mean 'ingresses'")
    assert_one_line_error(cli("timeline"), "--all")
    assert_one_line_error(cli("timeline", "-o", "yaml", "apps"), "accepts only table, wide, json or svg")


# --- a cluster: its release marked, its CRDs as rows -------------------------------------


def test_a_clusters_release_is_marked_and_its_crds_are_rows(cli, fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken", crd_groups=1, crd_versions=["v1", "v1beta1"],
                         crd_deprecated={"v1beta1": "g0001.example.com/v1beta1 Widget is deprecated; use v1"},
                         crd_unserved=["v1alpha1"])
    cli.env["KUBECONFIG"] = str(api.write_kubeconfig(tmp_path / "kubeconfig", context_name="prod"))
    answer = cli.json("timeline", "widgets")
    names = releases.release_names()
    at = names.index("1.33")
    assert answer["marked"] == "1.33" and answer["source"]["kind"] == "cluster"
    rows = {r["groupVersion"]: r for r in answer["rows"]}
    expected = {"g0001.example.com/v1alpha1": "off", "g0001.example.com/v1beta1": "deprecated", "g0001.example.com/v1": "stable"}
    assert {gv: r["cells"][at] for gv, r in rows.items()} == expected
    for row in answer["rows"]:
        assert row["custom"] is True and row["crd"] == "widgets.g0001.example.com" and row["kind"] == "Widget"
        assert set(row["cells"][:at] + row["cells"][at + 1:]) == {"unknown"}, "a CRD has no history outside its cluster"
    assert rows["g0001.example.com/v1beta1"]["deprecationWarning"].endswith("is deprecated; use v1")
    text = cli("timeline", "widgets", "ingresses").stdout
    assert "▼ 1.33: prod's release" in text and "? unknown" in text
    assert max(len(line) for line in text.splitlines()) <= 80
    everything = cli.json("timeline", "--all")
    gvs = [r["groupVersion"] for r in everything["rows"]]
    assert "g0001.example.com/v1" in gvs and "apps/v1" in gvs and len(gvs) == len(set(gvs))
    group = cli.json("timeline", "g0001.example.com")
    assert {r["groupVersion"]: r["cells"][at] for r in group["rows"]} == expected


def test_completion_offers_resources_and_api_groups(tmp_path):
    from conftest import clean_env
    from test_completion import complete

    env = clean_env(tmp_path)
    found = complete(env, "timeline", "ap")[0]
    assert {"apiservices", "apps", "apiextensions.k8s.io"} <= set(found) and all(f.startswith("ap") for f in found)
    assert "networking.k8s.io" in complete(env, "timeline", "ingresses", "net")[0], "every word completes, not the first alone"
    assert complete(env, "timeline", "co")[0][:1] == ["componentstatuses"] and "core" in complete(env, "timeline", "co")[0]
    assert complete(env, "timeline", "--col")[0] == ["--color"]
    assert complete(env, "timeline", "--color", "")[0] == ["auto", "always", "never"]


def test_the_clusters_own_release_is_what_its_discovery_serves(cli, fake_apiserver, tmp_path):
    snapshot = releases.load_release("1.33")
    turned_on = None
    for g in snapshot.groups:
        for gv in g.versions:
            if turned_on is None and not gv.served and gv.resources:
                turned_on = (g.name, gv.version)  # as --runtime-config=GROUP/VERSION=true does
                for r in gv.resources:
                    r.served = True
    assert turned_on is not None, "the catalog's 1.33 has a group/version a default API server leaves off"
    server = fake_apiserver(snapshot=snapshot, git_version="v1.33.2", token="t0ken")
    cli.env["KUBECONFIG"] = str(server.write_kubeconfig(tmp_path / "kubeconfig"))
    gv = f"{turned_on[0]}/{turned_on[1]}" if turned_on[0] else turned_on[1]
    at = releases.release_names().index("1.33")
    ours = next(r for r in cli.json("timeline", turned_on[0] or "core")["rows"] if r["groupVersion"] == gv)
    default = next(r for r in cli.json("timeline", turned_on[0] or "core", "--kube-version", "1.33")["rows"] if r["groupVersion"] == gv)
    assert default["cells"][at] == "off" and ours["cells"][at] in SERVING
    assert ours["cells"][:at] == default["cells"][:at], "only the cluster's own release is its discovery's"
