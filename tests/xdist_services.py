"""Give each pytest-xdist worker a Redis database of its own.

Loaded with ``-p`` (pyproject's addopts), so it runs before pytest-django reads the
settings. Two workers sharing one Redis database would flush each other's cache and limit
counters (``cache.clear()`` empties the whole database); each worker's test database is
already its own (pytest-django suffixes it with the worker's id).
"""

import os
import re

_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
_redis_url = os.environ.get("REDIS_URL", "")
_database = re.fullmatch(r"(redis://[^/]*)(?:/(\d+))?", _redis_url)
if _worker.startswith("gw") and _database:
    number = int(_database.group(2) or 0) + 1 + int(_worker[2:])
    os.environ["REDIS_URL"] = f"{_database.group(1)}/{number}"
