"""Compare two report snapshots of the same scope: what moved between them.

Used twice: a report's "changes since the previous report" section, and the page that
compares any two reports of the same scope.
"""


def empty() -> dict:
    return {"rag_changes": [], "completed": [], "status_changes": [], "indicators": [], "areas": []}


def _by_code(snapshot: dict, part: str) -> dict:
    """Map each activity's (or indicator's) code to its focus area's code and its row, copying nothing."""
    return {row["code"]: (section["code"], row) for section in snapshot["focus_areas"] for row in section[part]}


def _rows(section: dict, part: str):
    return ((section["code"], row) for row in section[part])


def diff(old: dict, new: dict) -> dict:
    """List the RAG changes, completed activities, status changes and indicator movement from old to new."""
    before = _by_code(old, "activities")
    rag_changes, completed, status_changes = [], [], []
    for area, activity in (item for section in new["focus_areas"] for item in _rows(section, "activities")):
        earlier = before.get(activity["code"], (None, None))[1]
        if earlier is None:
            continue
        common = {"activity": activity["code"], "title": activity["title"], "area": area}
        if earlier["rag"] != activity["rag"]:
            rag_changes.append({**common, "from": earlier["rag"], "to": activity["rag"]})
        if earlier["status"] != activity["status"]:
            status_changes.append({**common, "from": earlier["status"], "to": activity["status"]})
            if activity["status"] == "completed":
                completed.append(common)
    del before
    movement = []
    old_indicators = _by_code(old, "indicators")
    for area, indicator in (item for section in new["focus_areas"] for item in _rows(section, "indicators")):
        earlier = old_indicators.get(indicator["code"], (None, None))[1]
        if earlier is None or earlier["actual"] == indicator["actual"]:
            continue
        change = None
        if earlier["actual"] is not None and indicator["actual"] is not None:
            change = round(indicator["actual"] - earlier["actual"], 2)
        movement.append(
            {
                "indicator": indicator["code"],
                "name": indicator["name"],
                "area": area,
                "from": earlier["actual"],
                "to": indicator["actual"],
                "change": change,
                "percent_from": earlier["percent_of_target"],
                "percent_to": indicator["percent_of_target"],
            }
        )
    old_summary = {row["code"]: row for row in old["summary"]}
    areas = []
    for row in new["summary"]:
        earlier = old_summary.get(row["code"])
        if earlier is None:
            continue
        areas.append(
            {
                "code": row["code"],
                "name": row["name"],
                "rag": {key: row["rag"][key] - earlier["rag"].get(key, 0) for key in row["rag"]},
                "completed": row["status"]["completed"] - earlier["status"].get("completed", 0),
                "average_percent_from": earlier["indicators"]["average_percent"],
                "average_percent_to": row["indicators"]["average_percent"],
            }
        )
    return {
        "rag_changes": rag_changes,
        "completed": completed,
        "status_changes": status_changes,
        "indicators": movement,
        "areas": areas,
    }
