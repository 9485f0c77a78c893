"""Stored files (evidence, imported templates, reports) through Django's storage API, never by path.

The store is ``default_storage``: the local disk under ``MEDIA_ROOT`` by default, a private bucket of an
S3-compatible object store when ``AWS_STORAGE_BUCKET_NAME`` is set (django-storages; see the settings). Any web
node and any worker then read what another wrote. Nothing is ever served from the store directly: a download
is a view that checks permission, records the access, and streams the file through the portal.

A store that refuses a write, or cannot be reached, raises ``StorageUnavailable`` (503) with a message that
names the problem but neither the store's address nor a path on disk; the detail goes to the log.
"""

import logging
import os
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.utils.translation import gettext as _

from portal.errors import DomainError
from portal.guards import refusal

logger = logging.getLogger(__name__)

# The codes an S3-compatible store answers when the object, or the bucket, is not there.
_MISSING = {"404", "NoSuchKey", "NotFound"}


# Seconds a client is asked to wait before it asks again for a file the store did not give.
RETRY_AFTER = 60


class StorageUnavailable(DomainError):
    """Refuse what needs the file store while it refuses, or does not answer."""

    status, code = 503, "storage_unavailable"
    retry_after = RETRY_AFTER


class StorageUnavailableMiddleware:
    """Answer a page (a download) that needed the file store while it failed: 503 with the message, never a 500.

    The API answers the same error itself, as JSON (``portal.api.errors``).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, StorageUnavailable):
            return None
        response = refusal(request, exception.status, exception.message, exception.code)
        response["Retry-After"] = str(exception.retry_after)
        return response


def _reason(error: Exception) -> str:
    """What went wrong, in a few words a user may read: the store's own code, never its address or a path."""
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code") or "ClientError"
    if isinstance(error, BotoCoreError):
        return _("the file store does not answer")
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return type(error).__name__


def _is_missing(error: Exception) -> bool:
    if isinstance(error, FileNotFoundError):
        return True
    return isinstance(error, ClientError) and str(error.response.get("Error", {}).get("Code")) in _MISSING


@contextmanager
def writing():
    """Turn the store's refusal of a write into ``StorageUnavailable``: nothing was stored."""
    try:
        yield
    except (OSError, BotoCoreError, ClientError) as error:
        logger.error("The file store refused a write: %s", error)
        raise StorageUnavailable(
            _(
                "The file could not be stored: the file store refused it (%(reason)s). Nothing was saved. Try "
                "again later; if it persists, tell an administrator."
            )
            % {"reason": _reason(error)},
            field="file",
        ) from error


@contextmanager
def reading():
    """Turn the store's failure to read into ``StorageUnavailable``, telling a missing file from a store down."""
    try:
        yield
    except (OSError, BotoCoreError, ClientError) as error:
        logger.error("The file store failed a read: %s", error)
        if _is_missing(error):
            message = _("The file store has no copy of this file. Tell an administrator.")
        else:
            message = _(
                "The file cannot be read from the file store for now (%(reason)s). Try again in a few minutes; "
                "if it persists, tell an administrator."
            ) % {"reason": _reason(error)}
        raise StorageUnavailable(message) from error


def save(name: str, content) -> str:
    """Store ``content`` under ``name`` (or a free name beside it); return the name it was stored under."""
    with writing():
        return default_storage.save(name, content)


def replace(name: str, path) -> str:
    """Store the local file at ``path`` under exactly ``name``, replacing what was there; return the name."""
    with writing():
        if default_storage.exists(name):
            default_storage.delete(name)
        with open(path, "rb") as local:
            stored = default_storage.save(name, File(local, name=name.rsplit("/", 1)[-1]))
    if stored != name:
        # Another writer took the name between the delete and the save: the callers hold a lock, so never.
        raise StorageUnavailable(_("The file store kept the file under another name; try again."))
    return stored


def delete(name: str) -> None:
    """Remove a stored file; one the store cannot remove now is logged and left behind, never an error."""
    try:
        default_storage.delete(name)
    except (OSError, BotoCoreError, ClientError) as error:
        logger.warning("The file store did not remove %s: %s", name, error)


def walk(top: str = "", *, deepest_first: bool = False, on_error=None):
    """Yield (folder, the names of its files) for ``top`` and each folder under it, sorted by name, through the
    store's ``listdir`` (an object store lists by prefix): as ``os.walk`` does, a folder before the folders in it,
    or after them with ``deepest_first``. A folder that is not there (never written to, or removed meanwhile)
    is left out; one the store cannot list raises, or is left out once handed to ``on_error(folder, error)``."""
    try:
        folders, names = default_storage.listdir(top)
    except FileNotFoundError:
        return
    except (OSError, BotoCoreError, ClientError) as error:
        if on_error is None:
            raise
        on_error(top, error)
        return
    if not deepest_first:
        yield top, sorted(names)
    for folder in sorted(folders):
        yield from walk(f"{top}/{folder}" if top else folder, deepest_first=deepest_first, on_error=on_error)
    if deepest_first:
        yield top, sorted(names)


def delete_folder(prefix: str) -> None:
    """Remove every file stored under ``prefix`` (a folder's name, no trailing slash), as ``delete`` does: a
    folder the store cannot list is logged and left behind, and the others are removed."""

    def unlisted(folder, error):
        logger.warning("The file store did not list %s for removal: %s", folder, error)

    for folder, names in walk(prefix, deepest_first=True, on_error=unlisted):
        for name in names:
            delete(f"{folder}/{name}")
        # On the local disk the emptied folder would stay behind (an object store has no folders).
        if isinstance(default_storage, FileSystemStorage):
            try:
                os.rmdir(default_storage.path(folder))
            except OSError as error:
                logger.warning("The file store did not remove the folder %s: %s", folder, error)


def open_for_download(stored):
    """Open a stored file (a ``FieldFile``) for a download, having read from the store already.

    The first read happens here, before the answer starts: a store that is down answers 503 with a message,
    never a download cut off after its headers were sent.
    """
    with reading():
        handle = stored.storage.open(stored.name, "rb")
        try:
            handle.read(1)
            handle.seek(0)
        except BaseException:
            handle.close()
            raise
    return handle
