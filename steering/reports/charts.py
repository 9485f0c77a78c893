"""Draw the report's charts as plain SVG on the server, for WeasyPrint to embed in the PDF.

Every label is escaped: focus-area names and codes are user data.
"""

from html import escape

from django.utils.safestring import mark_safe

BAR_HEIGHT = 16
GAP = 8
LABEL_WIDTH = 70
CHART_WIDTH = 340
LEGEND_HEIGHT = 22


def stacked_bars(rows: list[tuple[str, list[int]]], series: list[tuple[str, str]], *, title: str) -> str:
    """Return an SVG of one horizontal stacked bar per row; ``series`` gives each segment's label and colour."""
    largest = max((sum(values) for _label, values in rows), default=0) or 1
    height = LEGEND_HEIGHT + len(rows) * (BAR_HEIGHT + GAP) + GAP
    width = LABEL_WIDTH + CHART_WIDTH + 50
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    x = LABEL_WIDTH
    for label, colour in series:
        parts.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{escape(colour)}"/>')
        parts.append(f'<text x="{x + 14}" y="13" font-size="9">{escape(label)}</text>')
        x += 14 + 6 * len(label) + 14
    for index, (label, values) in enumerate(rows):
        y = LEGEND_HEIGHT + GAP + index * (BAR_HEIGHT + GAP)
        parts.append(f'<text x="0" y="{y + 12}" font-size="9">{escape(label)}</text>')
        x = float(LABEL_WIDTH)
        for value, (_name, colour) in zip(values, series, strict=True):
            if value <= 0:
                continue
            span = CHART_WIDTH * value / largest
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{span:.1f}" height="{BAR_HEIGHT}" fill="{escape(colour)}"/>'
            )
            x += span
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 12}" font-size="9">{sum(values)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703  # every piece of text above is escaped
