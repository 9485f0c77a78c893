"""How messages name the database the portal uses."""

from django.db import connection


def label() -> str:
    """``database "jap" at db.example.org:5432`` (never its password), or ``SQLite database "…"``."""
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        return f'SQLite database "{database["NAME"]}"'
    return f'database "{database["NAME"]}" at {database.get("HOST") or "localhost"}:{database.get("PORT") or 5432}'
