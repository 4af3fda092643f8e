"""timeline -o svg: the Timeline answer as a standalone SVG 1.1 picture, a row per API group/version and a
column per release, each cell coloured by its state (Okabe-Ito, colour-blind safe) and marked with a letter
so that it reads in greyscale too; the marked release's column outlined, a legend and a caption.

Built as text with the standard library only: no fonts, styles or scripts from outside, and every name is
escaped (names come from clusters and CRDs).  Elements carry classes and data-* attributes (row, cell,
marked, legend-entry) so that what the picture says can be read back by a program (tests/test_timeline_svg.py
reads it in a real browser).
"""

from __future__ import annotations

import re
import unicodedata
from xml.sax.saxutils import escape, quoteattr

# state: (fill, mark, colour of the mark, what the legend says).  Okabe & Ito's palette, plus greys.
STYLES = {
    "absent": ("#f4f4f4", "", "#000000", "absent: not in this release"),
    "off": ("#bbbbbb", "o", "#000000", "off: present, off by default"),
    "alpha": ("#cc79a7", "a", "#000000", "alpha"),
    "beta": ("#56b4e9", "b", "#000000", "beta"),
    "stable": ("#009e73", "s", "#ffffff", "stable"),
    "deprecated": ("#e69f00", "d", "#000000", "deprecated: served, to be removed"),
    "removed": ("#d55e00", "\u00d7", "#ffffff", "removed in this release"),
    "unknown": ("#f0e442", "?", "#000000", "unknown: could not be known"),
}
STATES = list(STYLES)
OTHER = ("#ffffff", "!", "#000000", "")  # a state this version does not know: drawn, never dropped

FONT = "DejaVu Sans Mono, Menlo, Consolas, Liberation Mono, monospace"
SIZE = 12  # font size of labels, in px
CELL_W, CELL_H = 22, 20
MARGIN = 16
LABEL_MAX = 60  # characters of a row's label shown; the whole name is in its tooltip
NOTE_MAX = 100
CAPTION_MAX = 110

# XML 1.0 allows tab, newline and carriage return of the C0 controls, and no surrogates or U+FFFE/U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_CLASS_WORD = re.compile("[^a-z0-9-]")


def clean(value) -> str:
    """The text of a value, with the characters XML cannot hold replaced, and escaped for an element's text."""
    return escape(_NOT_XML.sub("\ufffd", "" if value is None else str(value)))


def attr(value) -> str:
    """A value as a quoted, escaped attribute value."""
    text = _NOT_XML.sub("\ufffd", "" if value is None else str(value))
    return quoteattr(text, {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def width_of(text: str, size: float = SIZE) -> float:
    """Room for text in px, a little over: a monospace character is 0.6em wide in the usual fonts, a wide
    (East Asian) one twice that, a combining one nothing."""
    ems = 0.0
    for char in text:
        if unicodedata.combining(char):
            continue
        ems += 1.24 if unicodedata.east_asian_width(char) in "WF" else 0.62
    return ems * size


def row_label(row: dict) -> str:
    label = str(row.get("groupVersion") or "?")
    if row.get("kind"):
        label += f" {row['kind']}"
    elif row.get("resource"):
        label += f" {row['resource']}"
    return label


def row_note(row: dict) -> str:
    """What the row's facts say beside its cells: a CRD's name, introduced, deprecated and removed in, and what
    replaces it."""
    parts = [f"CRD {row['crd']}" if row.get("crd") else "custom resource"] if row.get("custom") else []
    for key in ("introduced", "deprecated", "removed"):
        if row.get(key):
            parts.append(f"{key} {row[key]}")
    if row.get("replacement"):
        parts.append(f"use {row['replacement']}")
    return ", ".join(parts)


def subject(answer: dict) -> str:
    """What was asked: the answer's words when given, else the rows' resources or kinds, else every API."""
    words = answer.get("words")
    if isinstance(words, (list, tuple)) and words:
        return " ".join(str(w) for w in words)
    names = []
    for row in answer.get("rows") or []:
        name = row.get("resource") or row.get("kind")
        if name and name not in names:
            names.append(str(name))
    return ", ".join(names) if names else "every API"


def _said(value) -> str:
    return str(value) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""


def source_text(answer: dict) -> str:
    """The caption's second line: where the facts came from, from whatever the source dict holds (its kind and
    name, the Kubernetes version unless the name says it, context, origin, age; else its plain values), and the
    marked release."""
    source = answer.get("source")
    parts: list = []
    if isinstance(source, dict):
        head = " ".join(_said(source.get(k)) for k in ("kind", "name") if _said(source.get(k)))
        parts = [head] if head else []
        version = next((_said(source.get(k)) for k in ("gitVersion", "kubernetesVersion", "release") if _said(source.get(k))), "")
        if version and version.lstrip("v") not in head:
            parts.append(f"Kubernetes {version}")
        if _said(source.get("context")) and source["context"] != source.get("name"):
            parts.append(f"context {source['context']}")
        parts += [f"{prefix}{_said(source.get(k))}" for k, prefix in (("origin", ""), ("age", "read "))
                  if _said(source.get(k))]
        if not parts:
            parts = [f"{k} {v}" for k, v in source.items() if _said(v)]
    elif source:
        parts = [str(source)]
    said = "source: " + ", ".join(parts) if parts else ""
    if answer.get("marked"):
        said = f"{said}; release {answer['marked']} marked" if said else f"release {answer['marked']} marked"
    return said


def state_class(state: str) -> str:
    return "state-" + (_CLASS_WORD.sub("-", state.lower()) or "none")


def _cell(x: float, y: float, label: str, release: str, state: str) -> list:
    fill, mark, ink, _ = STYLES.get(state, OTHER)
    out = [
        f'<rect class={attr("cell " + state_class(state))} data-release={attr(release)} data-state={attr(state)}'
        f' x="{x:g}" y="{y:g}" width="{CELL_W}" height="{CELL_H}" fill="{fill}" stroke="#ffffff" stroke-width="1">'
        f"<title>{clean(f'{label} in {release}: {state}')}</title></rect>"
    ]
    if mark:
        out.append(
            f'<text class="mark" x="{x + CELL_W / 2:g}" y="{y + CELL_H / 2 + SIZE * 0.35:g}" text-anchor="middle"'
            f' fill="{ink}" pointer-events="none" aria-hidden="true">{clean(mark)}</text>'
        )
    return out


def _legend(states: list, left: float, top: float, room: float) -> tuple:
    """(the legend's lines of SVG, its height): a swatch and the words for each state, wrapped to the room;
    nothing for no states."""
    if not states:
        return [], 0
    out = ['<g class="legend">', f'<text class="legend-title" x="{left:g}" y="{top + SIZE:g}" font-weight="bold">Legend</text>']
    x, y = left, top + SIZE + 8
    for state in states:
        fill, mark, ink, words = STYLES.get(state, OTHER)
        words = words or state
        size = CELL_W + 6 + width_of(words) + 18
        if x > left and x + size > left + room:
            x, y = left, y + CELL_H + 6
        out.append(f'<g class="legend-entry" data-state={attr(state)}>')
        out.append(f'<rect class={attr("swatch " + state_class(state))} x="{x:g}" y="{y:g}" width="{CELL_W}" height="{CELL_H}"'
                   f' fill="{fill}" stroke="#888888" stroke-width="0.5"/>')
        if mark:
            out.append(f'<text class="mark" x="{x + CELL_W / 2:g}" y="{y + CELL_H / 2 + SIZE * 0.35:g}" text-anchor="middle"'
                       f' fill="{ink}">{clean(mark)}</text>')
        out.append(f'<text class="legend-label" x="{x + CELL_W + 6:g}" y="{y + CELL_H / 2 + SIZE * 0.35:g}">{clean(words)}</text>')
        out.append("</g>")
        x += size
    out.append("</g>")
    return out, y + CELL_H - top


def render(answer: dict) -> str:
    """The Timeline answer (the -o json contract) as an SVG document, ending in a newline."""
    releases = [str(r) for r in answer.get("releases") or []]
    rows = [r for r in answer.get("rows") or [] if isinstance(r, dict)]
    marked = str(answer["marked"]) if answer.get("marked") is not None else None
    given = [s for s in answer.get("states") or [] if isinstance(s, str)]
    seen = {str(c) for r in rows for c in r.get("cells") or []}
    states = given + [s for s in STATES if s not in given and s in seen] + sorted(seen - set(given) - set(STATES))

    title = f"API timeline: {subject(answer)}"
    caption = source_text(answer)
    labels = [shorten(row_label(r), LABEL_MAX) for r in rows]
    notes = [shorten(row_note(r), NOTE_MAX) for r in rows]
    label_w = max([width_of(t) for t in labels] + [width_of("API group/version")]) + 12
    header_h = max([width_of(r) for r in releases] + [width_of("1.99")]) + 14
    grid_left = MARGIN + label_w
    grid_w = CELL_W * len(releases)
    note_w = max([width_of(n, SIZE - 1) for n in notes] + [0])
    title_h = SIZE + 6 + (SIZE + 6 if caption else 0) + 10
    grid_top = MARGIN + title_h + header_h
    body_h = CELL_H * max(len(rows), 1)
    width = max(grid_left + grid_w + (12 + note_w if note_w else 0),
                MARGIN + width_of(shorten(title, CAPTION_MAX), SIZE + 2), MARGIN + width_of(shorten(caption, CAPTION_MAX)),
                MARGIN + 420) + MARGIN
    room = width - 2 * MARGIN
    legend, legend_h = _legend(states, MARGIN, grid_top + body_h + 16, room)
    height = grid_top + body_h + 16 + legend_h + MARGIN
    width, height = int(width + 0.999), int(height + 0.999)

    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" font-family={attr(FONT)} font-size="{SIZE}" class="timeline">',
        f"<title>{clean(title)}</title>",
        f'<rect class="background" x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        '<g class="caption">',
        f'<text class="title" x="{MARGIN}" y="{MARGIN + SIZE + 2}" font-size="{SIZE + 2}" font-weight="bold">'
        f"{clean(shorten(title, CAPTION_MAX))}</text>",
    ]
    if caption:
        out.append(f'<text class="source" x="{MARGIN}" y="{MARGIN + 2 * SIZE + 10}" fill="#333333">{clean(shorten(caption, CAPTION_MAX))}</text>')
    out.append("</g>")

    # Release labels, rotated to read upwards, each centred on its column; the marked one bold, with a triangle.
    out.append('<g class="releases">')
    for i, release in enumerate(releases):
        cx = grid_left + i * CELL_W + CELL_W / 2
        is_marked = release == marked
        extra = ' font-weight="bold" fill="#000000"' if is_marked else ' fill="#333333"'
        out.append(f'<text class={attr("release marked-release" if is_marked else "release")} data-release={attr(release)}'
                   f' x="{cx + SIZE * 0.35:g}" y="{grid_top - 6:g}" transform="rotate(-90 {cx + SIZE * 0.35:g} {grid_top - 6:g})"'
                   f"{extra}>{clean(release)}</text>")
    out.append("</g>")
    out.append(f'<text class="column-title" x="{MARGIN}" y="{grid_top - 6:g}" fill="#333333">API group/version</text>')

    out.append('<g class="rows">')
    for n, row in enumerate(rows):
        y = grid_top + n * CELL_H
        full = row_label(row)
        cells = [str(c) for c in row.get("cells") or []]
        cells += ["unknown"] * (len(releases) - len(cells))
        out.append(f'<g class="row" data-group-version={attr(row.get("groupVersion") or "")} data-kind={attr(row.get("kind") or "")}'
                   f' data-resource={attr(row.get("resource") or "")} data-custom={attr("true" if row.get("custom") else "false")}>')
        if n % 2:
            out.append(f'<rect class="stripe" x="{MARGIN}" y="{y:g}" width="{label_w:g}" height="{CELL_H}" fill="#f7f7f7"/>')
        style = ' font-style="italic"' if row.get("custom") else ""
        tip = "; ".join(str(t) for t in (full, row_note(row), row.get("deprecationWarning")) if t)
        out.append(f'<text class="row-label" x="{MARGIN + 4}" y="{y + CELL_H / 2 + SIZE * 0.35:g}"{style}>{clean(labels[n])}'
                   f"<title>{clean(tip)}</title></text>")
        for i, release in enumerate(releases):
            out.extend(_cell(grid_left + i * CELL_W, y, full, release, cells[i]))
        if notes[n]:
            out.append(f'<text class="note" x="{grid_left + grid_w + 12:g}" y="{y + CELL_H / 2 + SIZE * 0.35:g}"'
                       f' font-size="{SIZE - 1}" fill="#333333">{clean(notes[n])}</text>')
        out.append("</g>")
    if not rows:
        out.append(f'<text class="empty" x="{grid_left + 4:g}" y="{grid_top + CELL_H / 2 + SIZE * 0.35:g}">no API matches</text>')
    out.append("</g>")

    if marked in releases:
        x = grid_left + releases.index(marked) * CELL_W
        top = grid_top - header_h + 2
        out.append(f'<g class="marked" data-release={attr(marked)} pointer-events="none">'
                   f'<rect class="marked-column" x="{x - 1:g}" y="{top:g}" width="{CELL_W + 2}" height="{grid_top + body_h + 1 - top:g}"'
                   f' fill="none" stroke="#000000" stroke-width="2"/>'
                   f'<path class="marked-arrow" d="M{x + CELL_W / 2 - 5:g},{top - 7:g} h10 l-5,6 z" fill="#000000"/>'
                   f"<title>{clean(f'release {marked}')}</title></g>")

    out.extend(legend)
    out.append("</svg>")
    return "\n".join(out) + "\n"
