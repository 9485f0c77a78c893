"""Draw the report's charts as plain SVG on the server, for WeasyPrint to embed in the PDF.

Every label is escaped: focus-area names and codes are user data. Right to left (Arabic),
the chart is mirrored: labels on the right, bars growing leftwards. The legend is not drawn
here but written beside the chart in the page: WeasyPrint lays out SVG text without Arabic
shaping or bidi, and HTML text with both.
"""

import unicodedata
from html import escape

from django.utils.safestring import mark_safe

from portal import numbers

BAR_HEIGHT = 16
GAP = 8
LABEL_WIDTH = 70
CHART_WIDTH = 340
FONT_SIZE = 9
# The PDF's own font stack (templates/steering/includes/pdf_fonts.html), for the chart's text.
FONTS = "Noto Sans, Noto Sans Arabic, Noto Naskh Arabic, Noto Sans CJK SC, DejaVu Sans, sans-serif"


def text_width(text: str) -> float:
    """Estimate the width of a label at the chart's font size: wide (CJK) characters take about twice the room."""
    return sum(FONT_SIZE if unicodedata.east_asian_width(char) in "WF" else FONT_SIZE * 0.62 for char in text)


def stacked_bars(
    rows: list[tuple[str, list[int]]], series: list[tuple[str, str]], *, title: str, rtl: bool = False
) -> str:
    """Return an SVG of one horizontal stacked bar per row; ``series`` gives each segment's label and colour.

    Its rows' labels are codes and its totals numbers: every word is in the legend, outside it.
    """
    largest = max((sum(values) for _label, values in rows), default=0) or 1
    height = len(rows) * (BAR_HEIGHT + GAP) + GAP
    width = LABEL_WIDTH + CHART_WIDTH + 50

    def at(x: float, span: float = 0) -> float:
        """Mirror a box starting at ``x`` and ``span`` wide when the chart reads right to left."""
        return width - x - span if rtl else x

    anchor = ' text-anchor="end"' if rtl else ""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        # Left to right even in an Arabic page, so that "end" stays the right-hand end (the mirroring is
        # done above); each label's own text is still laid out by its script.
        f'font-family="{FONTS}" direction="ltr">',
        f"<title>{escape(title)}</title>",
    ]
    for index, (label, values) in enumerate(rows):
        y = GAP + index * (BAR_HEIGHT + GAP)
        parts.append(f'<text x="{at(0):.1f}" y="{y + 12}" font-size="{FONT_SIZE}"{anchor}>{escape(label)}</text>')
        x = float(LABEL_WIDTH)
        for value, (_name, colour) in zip(values, series, strict=True):
            if value <= 0:
                continue
            span = CHART_WIDTH * value / largest
            parts.append(
                f'<rect x="{at(x, span):.1f}" y="{y}" width="{span:.1f}" height="{BAR_HEIGHT}" '
                f'fill="{escape(colour)}"/>'
            )
            x += span
        total = escape(numbers.show(sum(values), digits=0))
        parts.append(f'<text x="{at(x + 4):.1f}" y="{y + 12}" font-size="{FONT_SIZE}"{anchor}>{total}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703  # every piece of text above is escaped


def swatch(colour: str) -> str:
    """A legend's colour key, as a small SVG square (the PDF's HTML legend sets no inline style)."""
    return mark_safe(  # noqa: S308  # nosec B308 B703  # the colour is escaped
        f'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8" viewBox="0 0 8 8">'
        f'<rect width="8" height="8" fill="{escape(colour)}"/></svg>'
    )
