"""The timeline answer as a chart (one row per group/version, one column per release), or -o json, -o svg:
FORMATS, its printers, each called as printer(answer, width, colour).

Every state has its own character, so the chart reads without colour (a CI log, a colour-blind reader);
colour, from the Okabe-Ito palette, is layered on top.  Where the chart is wider than it may be, runs of
releases in which no row changes become one column ('1.23–1.28'); the marked release keeps its own.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

from kubectl_apiinfo.errors import flag, printable
from kubectl_apiinfo.model import release_span
from kubectl_apiinfo.printers.structured import to_json
from kubectl_apiinfo.printers.tabwriter import wrap

# One character per state, none alike; console writes '=' for the block and 'v' for the marker where the
# stream cannot encode them.
CHARACTERS = {
    "absent": " ", "off": "-", "alpha": "a", "beta": "b", "stable": "\u2588",
    "deprecated": "d", "removed": "x", "unknown": "?",
}
MEANINGS = {
    "absent": "absent", "off": "off by default", "alpha": "alpha", "beta": "beta", "stable": "stable",
    "deprecated": "deprecated", "removed": "removed",
    "unknown": "unknown (a CRD or aggregated API has no history outside the cluster's release)",
}
# Okabe & Ito's colour-blind-safe palette, as the nearest of the 256 xterm colours.
COLOURS = {
    "off": 25,  # blue #0072B2
    "alpha": 175,  # reddish purple #CC79A7
    "beta": 74,  # sky blue #56B4E9
    "stable": 36,  # bluish green #009E73
    "deprecated": 214,  # orange #E69F00
    "removed": 166,  # vermillion #D55E00
    "unknown": 185,  # yellow #F0E442
}
MARKER = "\u25bc"
PIPE_WIDTH = 80  # where the width is not the terminal's: a pipe, a CI log
NOTE_INDENT = "  "  # a note's continuation lines
_RESET = "\x1b[0m"


def _paint(text: str, state: str, colour: bool) -> str:
    code = COLOURS.get(state)
    return f"\x1b[38;5;{code}m{text}{_RESET}" if colour and code and text.strip() else text


def spans(answer: dict, compress: bool) -> list:
    """The columns as [first, last] indexes into the releases: one per release, or, compressed, one per run
    of releases in which no row's cell changes; the marked release is always a column of its own."""
    releases, rows = answer["releases"], answer["rows"]
    marked = releases.index(answer["marked"]) if answer.get("marked") in releases else None
    found: list = []
    for i in range(len(releases)):
        same = all(r["cells"][i] == r["cells"][i - 1] for r in rows)
        if compress and found and same and marked not in (i, found[-1][1]):
            found[-1][1] = i
        else:
            found.append([i, i])
    return found


def _label(row: dict, with_kind: bool) -> str:
    text = row["groupVersion"] + (f" {row['kind']}" if with_kind and row.get("kind") else "")
    return printable(text)


def _with_kind(answer: dict) -> bool:
    return len({r.get("kind") for r in answer["rows"]}) > 1  # one resource's rows need not repeat its kind


# How a chart is laid out, widest first: each release a column named in full; runs of unchanged releases
# merged; each release one character under its name written downwards.
MODES = ("full", "runs", "dense")


def layout(answer: dict, mode: str) -> dict:
    """The columns ([first, last] release indexes), their labels, the label column's width, the gap between
    columns, and the chart's width."""
    releases = answer["releases"]
    columns = spans(answer, mode == "runs")
    if mode == "dense":
        common = _common_prefix(releases)
        labels = [r[len(common):] for r in releases]
        header = ["KUBERNETES " + common, "GROUP/VERSION KIND" if _with_kind(answer) else "GROUP/VERSION"]
        gap, cell = "", 1
    else:
        labels = [release_span(releases[a], releases[b]) for a, b in columns]
        header = ["GROUP/VERSION KIND" if _with_kind(answer) else "GROUP/VERSION"]
        gap, cell = " ", 0
    with_kind = _with_kind(answer)
    first = max([len(h) for h in header] + [len(_label(r, with_kind)) for r in answer["rows"]])
    widths = [cell or len(label) for label in labels]
    return {"columns": columns, "labels": labels, "header": header, "first": first, "gap": gap, "widths": widths,
            "total": first + sum(len(gap) + w for w in widths) + (0 if gap else 1)}


def _common_prefix(releases: list) -> str:
    # '1.' for 1.15 ... 1.37: the rest is written downwards, a character a line
    import os

    prefix = os.path.commonprefix(releases)
    return prefix[: prefix.rfind(".") + 1]


def chart(answer: dict, width: Optional[int], colour: bool) -> tuple:
    """The chart's text and how wide it is: the widest layout that fits width (None: the widest)."""
    rows, releases = answer["rows"], answer["releases"]
    for mode in MODES if width is not None else MODES[:1]:
        shape = layout(answer, mode)
        if shape["total"] <= width if width is not None else True:
            break
    columns, labels, first, gap, widths = (shape[k] for k in ("columns", "labels", "first", "gap", "widths"))
    pad = gap or " "  # a dense chart keeps one space between the labels and the cells
    marked = answer.get("marked")
    lines = []
    starts = []  # where each column begins
    at = first + len(pad)
    for w in widths:
        starts.append(at)
        at += w + len(gap)
    if marked in releases:
        n = next(n for n, (a, _) in enumerate(columns) if releases[a] == marked)
        lines.append(" " * (starts[n] + (widths[n] - 1) // 2) + (f"\x1b[1m{MARKER}{_RESET}" if colour else MARKER))
    depth = max(len(label) for label in labels) if mode == "dense" else 1
    heads = ([""] * depth + shape["header"])[-depth:]  # the label column's words sit on the last lines
    for line, head in enumerate(heads):
        parts = []
        for (a, _), label in zip(columns, labels):
            piece = label.rjust(depth)[line] if mode == "dense" else label
            parts.append(f"\x1b[1;7m{piece}{_RESET}" if colour and releases[a] == marked else piece)
        lines.append((head.ljust(first) + pad + gap.join(parts)).rstrip())
    with_kind = _with_kind(answer)
    for row in rows:
        cells = [_paint(CHARACTERS[row["cells"][a]] * w, row["cells"][a], colour) for (a, _), w in zip(columns, widths)]
        lines.append((_label(row, with_kind).ljust(first) + pad + gap.join(cells)).rstrip())
    return "\n".join(lines) + "\n", shape["total"]


def legend(answer: dict, width: int, colour: bool) -> str:
    """The characters the chart uses, what the marker marks, and, for a resource's rows, when each went."""
    shown = {c for r in answer["rows"] for c in r["cells"]}
    order = [s for s in answer["states"] if s != "absent"] + ["absent"]  # the blank is explained last
    items = [f"{_paint(CHARACTERS[s], s, colour) if s != 'absent' else '(blank)'} {MEANINGS[s]}"
             for s in order if s in shown]
    marked = answer.get("marked")
    if marked:
        source = answer["source"]
        whose = "the release answered for" if source["kind"] == "catalog" else f"{printable(source['name'])}'s release"
        items.append(f"{MARKER} {marked}: {whose}")
    lines, line = [], ""
    for item in items:
        if line and _visible(line) + 2 + _visible(item) > width:
            lines.append(line)
            line = ""
        line = f"{line}  {item}" if line else item
    lines.append(line)
    return "\n" + "\n".join(lines) + "\n" + _notes(answer, width)


def _visible(text: str) -> int:
    import re

    return len(re.sub(r"\x1b\[[0-9;]*m", "", text))


def _hanging(text: str, width: int) -> list:
    """A note in lines of width, those after the first indented by two (tabwriter's word wrap)."""
    first, *rest = wrap(text, width)
    if not rest:
        return [first]
    return [first] + [NOTE_INDENT + line for line in wrap(" ".join(rest), width - len(NOTE_INDENT))]


def _notes(answer: dict, width: int) -> str:
    """When each of a resource's group/versions was deprecated and removed, and what replaces it."""
    with_kind = _with_kind(answer)
    lines = []
    for row in answer["rows"]:
        if row.get("deprecationWarning"):
            lines.extend(_hanging(f"{_label(row, with_kind)}: {printable(row['deprecationWarning'])}", width))
        if row.get("kind") is None or not (row["deprecated"] or row["removed"]):
            continue
        said = [f"deprecated {row['deprecated']}" if row["deprecated"] else "",
                f"removed {row['removed']}" if row["removed"] else ""]
        text = f"{_label(row, with_kind)}: " + ", ".join(s for s in said if s)
        if row["replacement"]:
            gv, _, kind = row["replacement"].partition(" ")
            text += f" → {gv if kind == row['kind'] else row['replacement']}"  # the same kind goes without saying
        lines.extend(_hanging(text, width))
    return ("\n" + "\n".join(lines) + "\n") if lines else ""


def _table(answer: dict, width: Optional[int], colour: bool, compress: bool = True) -> str:
    from kubectl_apiinfo.console import warn

    if not answer["rows"]:
        return "no group/versions to chart\n"
    limit = (width or PIPE_WIDTH) if compress else None
    text, total = chart(answer, limit, colour)
    if limit is not None and total > limit:
        warn(f"the timeline needs {total} columns and has {limit}: it is printed wider; {flag('output')} json has it all")
    return text + legend(answer, limit or max(total, PIPE_WIDTH), colour)


def _wide(answer: dict, width: Optional[int], colour: bool) -> str:
    return _table(answer, width, colour, compress=False)


def _json(answer: dict, width: Optional[int] = None, colour: bool = False) -> str:
    return to_json(answer)


def _svg(answer: dict, width: Optional[int] = None, colour: bool = False) -> str:
    from kubectl_apiinfo.printers import timeline_svg  # written apart; only -o svg needs it

    return timeline_svg.render(answer)


FORMATS = {"table": _table, "wide": _wide, "json": _json, "svg": _svg}
