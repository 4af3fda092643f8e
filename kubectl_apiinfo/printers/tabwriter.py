"""Columns as kubectl lines them up: its printers.GetNewTabWriter is Go's text/tabwriter
with a minimum cell width of 6 and a padding of 3, the last column unpadded."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Sequence

from kubectl_apiinfo.errors import has_control, printable

_MIN_WIDTH, _PADDING = 6, 3


def tabwrite(rows: Sequence[Sequence[str]], indent: str = "") -> str:
    """Align rows of cells the way kubectl's tab writer does."""
    if not rows:
        return ""
    if has_control("".join(cell for r in rows for cell in r)):  # one scan: tables run to thousands of cells
        rows = [[printable(cell) for cell in r] for r in rows]  # a context name must not drive the terminal
    ncols = max(len(r) for r in rows)
    widths = [0] * ncols
    for r in rows:
        for i, cell in enumerate(r[:-1]):
            widths[i] = max(widths[i], len(cell) + _PADDING, _MIN_WIDTH)
    lines = []
    for r in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(r[:-1])]
        lines.append(indent + "".join(cells) + (r[-1] if r else ""))
    return "\n".join(lines) + "\n"


def or_dash(value) -> str:
    """A cell with nothing to say shows '-', as kubectl's tables do."""
    return str(value) if value else "-"
