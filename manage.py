#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    from django.core.management import execute_from_command_line
    from django.db import OperationalError

    try:
        execute_from_command_line(sys.argv)
    except OperationalError as error:
        unreachable = unreachable_database(error)
        if unreachable is None:
            raise
        # One line that says which database and why, where the traceback would bury it.
        raise SystemExit(unreachable) from None


def unreachable_database(error) -> str | None:
    """Say in one line that the database cannot be reached, or None when it can (another error)."""
    from django.db import OperationalError, connection

    connection.close()
    try:
        connection.ensure_connection()
    except OperationalError as again:
        error = again
    else:
        return None
    from portal import databases

    # psycopg's first line names the server, then why it refused: never the password.
    reason = " ".join(str(error).strip().splitlines()[0].split(" failed: ", 1)[-1].split())
    return f"Database error: cannot use {databases.label()} (DATABASE_URL): {reason}"


if __name__ == "__main__":
    main()
