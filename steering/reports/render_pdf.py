"""Render a report's snapshot as PDF with WeasyPrint: cover, summary with SVG charts, a section per focus area.

Rendered in the active language (the caller overrides it): labels through gettext, the
plan's fixed names from the catalogue, dates and numbers from CLDR; right to left for
Arabic (``dir="rtl"`` mirrors the page, its tables and its charts).

A table longer than ``ROWS_PER_TABLE`` shows the rows that need attention first and says
how many more the workbook holds: at scale a PDF listing ten thousand activities would be
neither read nor rendered in time.
"""

import logging
from pathlib import Path

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from . import languages
from .charts import stacked_bars, swatch
from .labels import labels

ROWS_PER_TABLE = 40
RAG_COLOURS = {"on_track": "#1e8e3e", "at_risk": "#f2a900", "off_track": "#c5221f", "none": "#b0b7bf"}
STATUS_COLOURS = {
    "planned": "#9db7d5",
    "ongoing": "#0b4f8a",
    "completed": "#1e8e3e",
    "delayed": "#f2a900",
    "cancelled": "#6c757d",
}
REPORTING_COLOURS = {"on_time": "#1e8e3e", "late": "#f2a900", "missing": "#c5221f"}
ATTENTION = {"off_track": 0, "at_risk": 1, None: 2, "on_track": 3}


def _shortened(rows: list, key) -> tuple[list, int]:
    if len(rows) <= ROWS_PER_TABLE:
        return rows, 0
    return sorted(rows, key=key)[:ROWS_PER_TABLE], len(rows) - ROWS_PER_TABLE


def _charts(snapshot: dict, names: dict, *, rtl: bool) -> list[tuple[str, str, list]]:
    """Each chart: its title, its SVG, and its legend (label and colour key) for the page to write."""
    summary = snapshot["summary"]

    def chart(key, colours, title, group=None):
        series = [(names[group or key][name], colour) for name, colour in colours.items()]
        rows = [(row["code"], [row[key][name] for name in colours]) for row in summary]
        legend = [(label, swatch(colour)) for label, colour in series]
        return stacked_bars(rows, series, title=title, rtl=rtl), legend

    return [
        (title, *chart(key, colours, title))
        for key, colours, title in (
            ("rag", RAG_COLOURS, _("Activities by RAG of the latest approved update")),
            ("status", STATUS_COLOURS, _("Activities by status")),
            ("reporting", REPORTING_COLOURS, _("Updates expected this period: on time, late, missing")),
        )
    ]


def as_endorsed(title: str, snapshot: dict) -> str:
    """The title, naming the plan version the report is as endorsed at when it is of one."""
    if not snapshot.get("version"):
        return title
    return _("%(title)s, as endorsed at version %(number)s") % {"title": title, "number": snapshot["version"]["number"]}


def context(snapshot: dict, *, content_hash: str) -> dict:
    """Return what the PDF's template shows, in the active language."""
    names = labels()
    language = languages.active()
    direction = languages.direction(language)
    sections = []
    for section in snapshot["focus_areas"]:
        activities, more_activities = _shortened(
            section["activities"], key=lambda row: (ATTENTION.get(row["rag"], 2), row["code"])
        )
        indicators, more_indicators = _shortened(
            section["indicators"],
            key=lambda row: (
                row["level"] != "objective",
                row["percent_of_target"] is None,
                row["percent_of_target"] or 0,
                row["code"],
            ),
        )
        offices, more_offices = _shortened(
            section["reporting"], key=lambda row: (-row["missing"] - row["late"], row["office"])
        )
        missing, more_missing = _shortened(section["missing"], key=lambda row: (row["office"], row["activity"]))
        late, more_late = _shortened(section["late"], key=lambda row: (row["office"], row["activity"]))
        sections.append(
            {
                **section,
                "activities": [
                    {
                        **row,
                        "rag_label": names["rag"][row["rag"] or "none"],
                        "status_label": names["status"][row["status"]],
                    }
                    for row in activities
                ],
                "indicators": indicators,
                "reporting": offices,
                "missing": missing,
                "late": late,
                "more": {
                    "activities": more_activities,
                    "indicators": more_indicators,
                    "reporting": more_offices,
                    "missing": more_missing,
                    "late": more_late,
                },
                "totals": {
                    "activities": len(section["activities"]),
                    "indicators": len(section["indicators"]),
                    "reporting": len(section["reporting"]),
                    "missing": len(section["missing"]),
                    "late": len(section["late"]),
                },
            }
        )
    changes = snapshot["changes"]
    shortened_changes = {}
    for key in ("rag_changes", "completed", "indicators"):
        rows, more = _shortened(
            changes[key], key=lambda row: (row.get("area", ""), row.get("activity") or row.get("indicator"))
        )
        shortened_changes[key] = rows
        shortened_changes[f"more_{key}"] = more
    return {
        "s": snapshot,
        "changes": {**changes, **shortened_changes},
        "sections": sections,
        "names": names,
        "charts": _charts(snapshot, names, rtl=direction == "rtl"),
        "content_hash": content_hash,
        "rows_per_table": ROWS_PER_TABLE,
        "title": as_endorsed(_("Progress report"), snapshot),
        "language": language,
        "direction": direction,
        # The page's margin boxes: the running title at the start of the line, the page number at its end.
        "start_side": "right" if direction == "rtl" else "left",
        "end_side": "left" if direction == "rtl" else "right",
    }


def write_pdf(snapshot: dict, *, content_hash: str, path: Path):
    """Write the report's PDF to ``path``."""
    write_pdf_of_html(pdf_html(snapshot, content_hash=content_hash), path=path)


def write_pdf_of_html(html: str, *, path: Path):
    """Lay out the report's HTML (``pdf_html``) and write it as PDF to ``path``."""
    import weasyprint  # loaded on demand: it pulls in pango through cffi

    # WeasyPrint logs a line per page at INFO: hundreds of lines per report in the worker's log.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    logging.getLogger("weasyprint").setLevel(logging.WARNING)

    weasyprint.HTML(string=html).write_pdf(target=str(path))


def pdf_html(snapshot: dict, *, content_hash: str) -> str:
    """Return the HTML handed to WeasyPrint, in the active language (for tests and checks)."""
    return render_to_string("steering/report_pdf.html", context(snapshot, content_hash=content_hash))
