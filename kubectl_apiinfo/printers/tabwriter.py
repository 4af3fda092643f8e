"""Columns as kubectl lines them up: its printers.GetNewTabWriter is Go's text/tabwriter
with a minimum cell width of 6 and a padding of 3, the last column unpadded.

On a terminal (a width given), fit() keeps that layout and wraps the free-text columns a table names
within their columns, continuation lines indented to the column, as kubectl describe wraps; a table
that cannot fit so (too many wide columns for the terminal) is printed a row at a time, each cell on
its own "HEADER:   value" line.  Without a width the answer is tabwrite()'s, byte for byte: a pipe
or a file gets full-width lines, for grep and diff.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Collection, Optional, Sequence

from kubectl_apiinfo.errors import has_control, printable

_MIN_WIDTH, _PADDING = 6, 3
# A wrapped column narrower than this reads as a word list: the table goes a row at a time instead.
_MIN_WRAPPED = 12
# A column need not be wider than this to be read: a path or a long name is broken to fit it.
_ENOUGH = 24
# Where a word too long for its column is best broken: after a path's or a name's separator.
_BREAKS = "/.,-:–"


def _printable_rows(rows: Sequence[Sequence[str]]) -> Sequence[Sequence[str]]:
    if has_control("".join(cell for r in rows for cell in r)):  # one scan: tables run to thousands of cells
        return [[printable(cell) for cell in r] for r in rows]  # a context name must not drive the terminal
    return rows


def _widths(rows: Sequence[Sequence[str]]) -> list[int]:
    """Each column's width with its padding, the last column's unpadded (as kubectl's tab writer pads)."""
    ncols = max(len(r) for r in rows)
    widths = [0] * ncols
    for r in rows:
        for i, cell in enumerate(r[:-1]):
            widths[i] = max(widths[i], len(cell) + _PADDING, _MIN_WIDTH)
    return widths


def tabwrite(rows: Sequence[Sequence[str]], indent: str = "") -> str:
    """Align rows of cells the way kubectl's tab writer does."""
    if not rows:
        return ""
    rows = _printable_rows(rows)
    widths = _widths(rows)
    lines = []
    for r in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(r[:-1])]
        lines.append(indent + "".join(cells) + (r[-1] if r else ""))
    return "\n".join(lines) + "\n"


def wrap(text: str, width: int) -> list[str]:
    """text in lines of at most width characters, broken between words; a word longer than a line is
    broken after its last separator (/ . , - :) that fits, else at the width.  Never an empty list."""
    width = max(width, 1)
    lines: list[str] = []
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) <= width:
            line += " " + word
            continue
        if line:
            lines.append(line)
        while len(word) > width:
            cut = max(word.rfind(c, 0, width) for c in _BREAKS) + 1
            cut = cut if cut > width // 3 else width
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    lines.append(line)
    return lines


def _longest_word(cells: list[str]) -> int:
    return max((len(w) for cell in cells for w in cell.split()), default=0)


def _shrink(natural: list[int], floors: list[int], room: int) -> Optional[list[int]]:
    """Widths for the wrapped columns within room (their text widths summed), the narrowest kept whole
    and the others shared alike (water-filling); None when even their floors exceed room."""
    if sum(floors) > room:
        return None
    widths = list(floors)
    left = room - sum(floors)
    growing = sorted(range(len(natural)), key=lambda i: natural[i] - floors[i])
    while growing and left > 0:
        i = growing[0]
        share = left // len(growing)
        need = natural[i] - widths[i]
        if need <= share:
            widths[i] += need
            left -= need
            growing.pop(0)
            continue
        for j in growing:
            widths[j] += share
        left -= share * len(growing)
        for j in growing[: left]:  # the remainder, a character each
            widths[j] += 1
        break
    return widths


def _wrapped_table(rows: Sequence[Sequence[str]], width: int, wraps: list[int], indent: str,
                   header: bool) -> Optional[str]:
    """The table with its wrapped columns narrowed to fit width; None when they cannot be kept readable.
    A header wraps before its column's cells do: room goes to the cells first."""
    ncols = max(len(r) for r in rows)
    last = ncols - 1
    padded = _widths(rows) + [0]
    natural = [max((len(r[i]) for r in rows if i < len(r)), default=0) for i in range(ncols)]
    cells = rows[1:] if header else rows
    content = [max((len(r[i]) for r in cells if i < len(r)), default=0) for i in range(ncols)]
    fixed = len(indent) + sum(padded[i] for i in range(ncols) if i not in wraps)
    room = width - fixed - sum(_PADDING for i in wraps if i != last)
    floors = [min(natural[i], max(_MIN_WRAPPED, min(_longest_word([r[i] for r in rows if i < len(r)]), _ENOUGH)))
              for i in wraps]
    shrunk = _shrink([max(content[i], f) for i, f in zip(wraps, floors)], floors, room)
    if shrunk is None:
        return None
    shrunk = _shrink([natural[i] for i in wraps], shrunk, room) or shrunk
    text = dict(zip(wraps, shrunk))
    widths = [padded[i] if i not in text else (text[i] + _PADDING if i != last else text[i]) for i in range(ncols)]
    lines = []
    for r in rows:
        cells = [wrap(cell, text[i]) if i in text else [cell] for i, cell in enumerate(r)]
        for n in range(max(len(c) for c in cells)):
            parts = [(c[n] if n < len(c) else "") for c in cells]
            line = "".join(p.ljust(widths[i]) for i, p in enumerate(parts[:-1])) + parts[-1]
            lines.append((indent + line).rstrip() if n else indent + line)
    return "\n".join(lines) + "\n"


def _records(labels: Sequence[str], rows: Sequence[Sequence[str]], width: int, indent: str) -> str:
    """Each row as a block of "LABEL:   value" lines, values wrapped under themselves; a blank line between."""
    column = max(max(len(label) + 1 + _PADDING for label in labels), _MIN_WIDTH)
    room = max(width - len(indent) - column, _MIN_WRAPPED)
    blocks = []
    for r in rows:
        lines = []
        for label, cell in zip(labels, r):
            for n, part in enumerate(wrap(cell, room)):
                lines.append(indent + ((label + ":").ljust(column) if n == 0 else " " * column) + part)
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def fit(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    width: Optional[int],
    wraps: Collection[str] = (),
    indent: str = "",
    no_headers: bool = False,
) -> str:
    """A table fit to width: the columns whose headers are in wraps wrap within themselves; when that
    cannot fit, a block per row.  width None (a pipe) is tabwrite() as it always was."""
    table = rows if no_headers else [list(headers)] + list(rows)
    if not rows and no_headers:
        return ""
    if width is None:
        return tabwrite(table, indent)
    table = _printable_rows(table)
    rows = table if no_headers else table[1:]
    if max(len(line) for line in tabwrite(table, indent).splitlines()) <= width:
        return tabwrite(table, indent)
    columns = [i for i, h in enumerate(headers) if h in wraps]
    fitted = _wrapped_table(table, width, columns, indent, not no_headers) if columns else None
    if fitted is not None:
        return fitted
    return _records([printable(h) for h in headers], rows, width, indent)


def hang(label: str, text: str, width: Optional[int]) -> str:
    """A line "LABEL text" whose text wraps under itself (a hanging indent) within width; as it is without one."""
    if width is None or len(label) + len(text) <= width:
        return label + text + "\n"
    lines = wrap(text, max(width - len(label), _MIN_WRAPPED))
    return label + ("\n" + " " * len(label)).join(lines) + "\n"


def or_dash(value) -> str:
    """A cell with nothing to say shows '-', as kubectl's tables do."""
    return str(value) if value else "-"
