"""Text in aligned columns: the one way every command prints a table."""

from __future__ import annotations

from collections.abc import Container, Sequence


def table(
    rows: Sequence[Sequence[str]], *, right: Container[int] = frozenset(), indent: str = ""
) -> str:
    """Rows in aligned columns, two spaces apart, each line after ``indent`` and without
    trailing spaces; the columns numbered in ``right`` align right."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append((indent + "  ".join(cells)).rstrip())
    return "\n".join(lines)
