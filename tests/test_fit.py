"""Answers that fit the terminal: the real command on a pseudo-terminal of a set width; the same command piped
prints the full-width layout, byte for byte as before."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import termios

import pytest

from conftest import COMMAND
from kubectl_apiinfo.printers import show as show_printer
from kubectl_apiinfo.printers import upgrade
from kubectl_apiinfo.printers.tabwriter import fit, hang, tabwrite, wrap

RESOURCE_ANSWERS = [
    ("ingresses", "--kube-version", "1.21"),
    ("flowschemas", "--kube-version", "1.25"),
    ("deployments",),
    ("deployments", "--kube-version", "1.16"),
]


def on_terminal(cli, *args: str, columns: int = 100, env_columns: str = "") -> subprocess.CompletedProcess:
    """The command with stdout a pseudo-terminal of that many columns (COLUMNS unset unless env_columns); stderr
    a pipe."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    attributes = termios.tcgetattr(slave)
    attributes[1] &= ~termios.ONLCR  # "\n" as the program wrote it, not "\r\n"
    termios.tcsetattr(slave, termios.TCSANOW, attributes)
    env = {k: v for k, v in cli.env.items() if k not in ("COLUMNS", "LINES")}
    if env_columns:
        env["COLUMNS"] = env_columns
    process = subprocess.Popen([str(COMMAND), *args], stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE,
                               env=env, cwd=cli.home)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:  # EIO: the other end closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    stderr = process.stderr.read()
    process.wait(timeout=120)
    os.close(master)
    return subprocess.CompletedProcess(args, process.returncode, b"".join(chunks).decode(), stderr.decode())


def _widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


def _characters(text: str) -> dict:
    counts: dict = {}
    for c in "".join(text.split()):
        counts[c] = counts.get(c, 0) + 1
    return counts


def _nothing_lost(piped: str, fitted: str) -> None:
    """Every printed character of the full-width answer is in the fitted one (which may repeat labels)."""
    have = _characters(fitted)
    missing = {c: n - have.get(c, 0) for c, n in _characters(piped).items() if have.get(c, 0) < n}
    assert not missing, missing


def _cells(text: str, headers: list, starts_row: str) -> list:
    """{header: cell} per row of a fitted table, read back: a wrapped table (header line first; a row begins where
    its starts_row column is filled, continuation lines add to its wrapped cells) or a block per row."""
    lines = text.splitlines()
    rows: list = []
    if lines[0].startswith(headers[0] + ":"):  # a block per row
        column = len(lines[0]) - len(lines[0].split(":", 1)[1].lstrip())
        for line in lines:
            if not line.strip():
                continue
            label = line[:column].strip().rstrip(":")
            if label == headers[0]:
                rows.append({})
            if label:
                rows[-1][label] = [line[column:]]
                current = label
            else:
                rows[-1][current].append(line[column:])
        return [{h: " ".join(parts) for h, parts in row.items()} for row in rows]
    assert lines[0].split()[0] == headers[0], lines[0]
    starts = [lines[0].index(h) for h in headers]
    for line in lines[1:]:
        pieces = [line[a:b].strip() for a, b in zip(starts, starts[1:] + [None])]
        cell = dict(zip(headers, pieces))
        if cell[starts_row]:
            rows.append({h: [p] for h, p in cell.items()})
        else:
            for h, p in cell.items():
                if p:
                    rows[-1][h].append(p)
    return [{h: " ".join(p for p in parts if p) for h, parts in row.items()} for row in rows]


def _same_text(a: str, b: str) -> bool:
    """Equal but for where lines were broken (a long word broken after '/' has no space in it)."""
    return "".join(a.split()) == "".join(b.split())


# --- the resource answer ---------------------------------------------------------------------


@pytest.mark.parametrize("args", RESOURCE_ANSWERS, ids=" ".join)
def test_the_resource_answer_fits_100_columns_and_loses_nothing(cli, args):
    piped = cli(*args)
    assert piped.returncode == 0, piped.stderr
    shown = on_terminal(cli, *args)
    assert shown.returncode == 0, shown.stderr
    assert _widest(shown.stdout) <= 100, shown.stdout
    assert _widest(piped.stdout) > 100, "piped, the answer keeps its full-width lines"
    _nothing_lost(piped.stdout, shown.stdout)
    answer = cli.json(*args)
    assert piped.stdout == show_printer.explain_text(answer, wide=False), "piped: the layout as it always was"
    flat = "".join(shown.stdout.split())
    for r in answer["resources"]:
        for v in r["versions"]:
            assert "".join(v["lifecycle"]["note"].split()) in flat
    assert shown.stdout.startswith("WRITE: "), "the answer opens with what to write"


def test_a_wide_answer_on_a_terminal_is_full_width(cli):
    args = ("ingresses", "--kube-version", "1.21", "-o", "wide")
    shown = on_terminal(cli, *args, columns=80)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == cli(*args).stdout and _widest(shown.stdout) > 150


def test_columns_overrides_the_terminals_width(cli):
    args = ("deployments", "--kube-version", "1.16")
    assert _widest(on_terminal(cli, *args, columns=60).stdout) <= 60
    wider = on_terminal(cli, *args, columns=60, env_columns="120").stdout
    assert 60 < _widest(wider) <= 120


@pytest.mark.parametrize("columns", [1, 10, 30, 60])
def test_a_very_narrow_terminal_wraps_as_it_can(cli, columns):
    args = ("ingresses", "--kube-version", "1.21")
    shown = on_terminal(cli, *args, columns=columns)
    assert shown.returncode == 0 and "Traceback" not in shown.stderr, shown.stderr
    _nothing_lost(cli(*args).stdout, shown.stdout)
    diff = on_terminal(cli, "diff", "1.21", "1.22", "ingresses", columns=columns)
    assert diff.returncode == 0 and "Traceback" not in diff.stderr, diff.stderr
    _nothing_lost(cli("diff", "1.21", "1.22", "ingresses").stdout, diff.stdout)


def test_the_listings_stay_kubectls_on_a_terminal(cli):
    for args in (("resources", "--kube-version", "1.33"), ("versions", "--kube-version", "1.33"),
                 ("resources", "--kube-version", "1.33", "-o", "wide")):
        assert on_terminal(cli, *args, columns=40).stdout == cli(*args).stdout, args


# --- check, diff, plan: the real manifests ----------------------------------------------------


@pytest.mark.parametrize("columns", [100, 200])
def test_check_fits_the_terminal_with_every_detail_whole(cli, shared_manifests, columns):
    args = ("check", "-f", str(shared_manifests), "-R", "--kube-version", "1.25")
    shown = on_terminal(cli, *args, columns=columns)
    assert shown.returncode == 3, shown.stderr
    assert _widest(shown.stdout) <= columns
    piped = cli(*args)
    assert _widest(piped.stdout) > 200
    answer = json.loads(cli(*args, "-o", "json").stdout)
    headers, rows = upgrade.check_rows(answer)
    assert piped.stdout == tabwrite([headers] + rows), "piped: the layout as it always was"
    found = _cells(shown.stdout, headers, "FINDING")
    assert len(found) == len(rows) > 500
    for cells, row in zip(found, rows):
        for header, cell in zip(headers, row):
            assert _same_text(cells[header], cell), (header, cells[header], cell)
    assert shown.stderr == piped.stderr, "the closing counts are the same, on stderr"


def _fits_and_keeps_every_cell(cli, args, rows_of, first_header, at_least):
    """On a 100-column terminal every line fits, and each row's cells read back equal the JSON's."""
    shown = on_terminal(cli, *args, columns=100)
    assert _widest(shown.stdout) <= 100
    headers, rows = rows_of(json.loads(cli(*args, "-o", "json").stdout))
    found = _cells(shown.stdout, headers, first_header)
    assert len(found) == len(rows) > at_least
    assert all(_same_text(c[h], cell) for c, row in zip(found, rows) for h, cell in zip(headers, row))
    return shown


def test_plan_and_diff_fit_too(cli, shared_manifests):
    plan = ("plan", "-f", str(shared_manifests / "raw" / "k8s-examples-2019"), "-R", "--from", "1.15", "--to", "1.30")
    shown = _fits_and_keeps_every_cell(cli, plan, upgrade.plan_rows, "HOP", 10)
    assert shown.returncode == 3, shown.stderr
    _fits_and_keeps_every_cell(cli, ("diff", "1.15", "1.30"), upgrade.diff_rows, "CHANGE", 50)


# --- the fitting itself ---------------------------------------------------------------------------


def test_wrap_breaks_between_words_and_a_long_word_after_a_separator():
    assert wrap("use policy/v1 PodDisruptionBudget, served in Kubernetes 1.25", 20) == [
        "use policy/v1", "PodDisruptionBudget,", "served in Kubernetes", "1.25"]
    assert wrap("/work/shared/manifests/raw/k8s-examples-2019/staging/x.yaml:12", 24) == [
        "/work/shared/manifests/", "raw/k8s-examples-2019/", "staging/x.yaml:12"]
    assert wrap("abcdefghij", 4) == ["abcd", "efgh", "ij"]
    assert wrap("", 10) == [""] and wrap("x", 0) == ["x"]


def test_fit_without_a_width_is_the_tab_writers_layout():
    headers, rows = ["A", "DETAIL"], [["x" * 30, "word " * 40], ["y", "z"]]
    assert fit(headers, rows, None, {"DETAIL"}) == tabwrite([headers] + rows)
    assert fit(headers, rows, None, {"DETAIL"}, no_headers=True) == tabwrite(rows)
    assert fit(headers, rows, 500, {"DETAIL"}) == tabwrite([headers] + rows), "what fits is left alone"
    fitted = fit(headers, rows, 80, {"DETAIL"})
    assert _widest(fitted) <= 80 and fitted.splitlines()[0].startswith("A" + " " * 32 + "DETAIL")
    assert all(line.startswith(" " * 33) for line in fitted.splitlines()[2:-1]), "continuations under their column"
    bare = fit(headers, rows, 80, {"DETAIL"}, no_headers=True)
    assert bare.splitlines()[0].startswith("x" * 30) and "DETAIL" not in bare and _widest(bare) <= 80
    assert hang("KUBECTL: ", "a b c", None) == "KUBECTL: a b c\n"
    assert hang("KUBECTL: ", "aaaa " * 10, 30).splitlines()[1].startswith(" " * 9 + "aaaa")


def test_a_header_wraps_before_its_cells_do():
    headers = ["NAME", "SERVED BY DEFAULT", "REPLACEMENT"]
    rows = [["n" * 30, "1.15–1.21", "networking.k8s.io/v1 Ingress"]]
    fitted = fit(headers, rows, 33 + 15 + 28, {"SERVED BY DEFAULT", "REPLACEMENT"})
    assert fitted.splitlines() == [
        "NAME" + " " * 29 + "SERVED BY      REPLACEMENT",
        " " * 33 + "DEFAULT",
        "n" * 30 + "   1.15–1.21      networking.k8s.io/v1 Ingress",
    ]


def test_a_table_too_wide_to_wrap_goes_a_row_at_a_time():
    headers = ["NAME", "A", "B", "C", "DETAIL"]
    rows = [["n" * 40, "a" * 20, "b" * 20, "c" * 20, "a long detail " * 5]]
    fitted = fit(headers, rows, 60, {"DETAIL"})
    assert _widest(fitted) <= 60
    assert fitted.splitlines()[:2] == ["NAME:     " + "n" * 40, "A:        " + "a" * 20]
    assert _cells(fitted, headers, "NAME")[0]["DETAIL"] == rows[0][4].strip()


def test_scan_fits_too_and_says_its_counts_on_stderr(cli, fake_apiserver, tmp_path):
    web = {"name": "web", "namespace": "default", "managedFields": [
        {"manager": "legacy-ci", "operation": "Update", "apiVersion": "extensions/v1beta1"}]}
    api = fake_apiserver(release="1.29", token="s3cret", objects={"apps/v1/deployments": [web]})
    cli.env["KUBECONFIG"] = str(api.write_kubeconfig(tmp_path / "kubeconfig"))
    args = ("scan", "--kube-version", "1.25")
    piped = cli(*args)
    assert piped.returncode == 3 and _widest(piped.stdout) > 60, piped.stderr
    shown = on_terminal(cli, *args, columns=60)
    assert shown.returncode == 3 and _widest(shown.stdout) <= 60
    _nothing_lost(piped.stdout, shown.stdout)
    assert shown.stderr.splitlines()[-1] == piped.stderr.splitlines()[-1]
    assert shown.stderr.splitlines()[-1].startswith("1 finding: 1 not-served; scanned ")
