"""Check an IATI activity against the official 2.03 schema, and say what is wrong in terms an officer can act on.

The schema's own messages are libxml2's, in English, as every IATI validator words them; each problem
also names the activity (its iati-identifier) and the element's path in it.
"""

import re
from dataclasses import asdict, dataclass
from pathlib import Path

from django.utils.translation import gettext as _
from lxml import etree

from portal.errors import DomainError

SCHEMA = Path(__file__).resolve().parent / "schema" / "iati-activities-schema.xsd"
VERSION = "2.03"
# An officer fixes the first problems and exports again: a whole plan's worth would bury them.
PROBLEMS_SHOWN = 50


@dataclass(frozen=True)
class Problem:
    """One thing that keeps an export from being published."""

    activity: str  # the activity's iati-identifier ("" when it has none)
    element: str  # the element's path within the activity, e.g. "result[2]/indicator/baseline"
    rule: str  # "schema", or the name of the rule in ``actionplan.iati.rules``
    message: str

    def __str__(self):
        where = " ".join(part for part in (self.activity, self.element) if part)
        return f"{where}: {self.message}" if where else self.message

    def as_dict(self) -> dict:
        return asdict(self)


class InvalidExport(DomainError):
    """Refuse an export that breaks the schema or a rule; ``problems`` says what, the first ones listed."""

    status, code = 409, "iati_invalid"

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(
            _(
                "The IATI export did not pass validation, so nothing was exported: correct what is listed, "
                "then export again."
            ),
            errors=[problem.as_dict() for problem in problems[:PROBLEMS_SHOWN]],
            problem_count=len(problems),
        )


def schema() -> etree.XMLSchema:
    """The activity schema, read from the files kept beside this module (never fetched). One for each export
    (a few milliseconds): a validator keeps the errors of its last run, which threads must not share."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.parse(str(SCHEMA), parser))


def identifier_of(activity: etree._Element) -> str:
    return (activity.findtext("iati-identifier") or "").strip()


def path_in_activity(path: str) -> str:
    """A path from the activity down: "/iati-activities/iati-activity[3]/result/indicator" → "result/indicator"."""
    return re.sub(r"^(/iati-activities)?(/iati-activity(\[\d+\])?)?/?", "", path or "")


def schema_problems(activity: etree._Element, checker: etree.XMLSchema) -> list[Problem]:
    """Validate one ``iati-activity`` element as the only activity of a file."""
    document = etree.Element("iati-activities", version=VERSION)
    document.append(activity)
    try:
        if checker.validate(document):
            return []
        return [
            Problem(identifier_of(activity), path_in_activity(entry.path), "schema", entry.message)
            for entry in checker.error_log
        ]
    finally:
        # Back to where it was: the element is written to the file next.
        document.remove(activity)
