"""Evidence files of an update: attached after checking size, content and duplicates; removed while
the update can still change. Files are stored under a name of their own; the original name is kept."""

import hashlib
import os

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import storage
from portal.errors import AlreadyExists, FileTooLarge, NotAllowed, UnsupportedFileType
from portal.roles import is_officer

from .files import sniff_content_type
from .models import Activity, Evidence, ProgressUpdate, UpdateComment
from .services import check_editable, check_period_open, may_edit, record_comment

ORIGINAL_NAME_MAX = 255


def check_may_change_files(by, update: ProgressUpdate, action: str):
    """Refuse, before its upload is read, one who may not change the update's files."""
    if not may_edit(by, update):
        raise NotAllowed(
            _("Only office %(office)s may %(action)s this update's evidence.")
            % {"office": update.office.code, "action": action}
        )


def _check_may_change_files(by, update: ProgressUpdate, action: str):
    check_may_change_files(by, update, action)
    check_period_open(update.period)
    check_editable(update)


def storage_name(update: ProgressUpdate, digest: str, original_name: str) -> str:
    """Where a file is stored: the update's folder, the content's digest and the original extension
    (whatever the original name's length, the stored name stays short)."""
    extension = os.path.splitext(original_name)[1].lower()[:10]
    return f"evidence/{update.pk}/{digest[:32]}{extension if extension[1:].isalnum() else ''}"


def check_size(size: int):
    """Refuse a file (evidence, a spreadsheet) larger than EVIDENCE_MAX_BYTES."""
    limit = settings.EVIDENCE_MAX_BYTES
    if size > limit:
        raise FileTooLarge(
            _("The file is %(size)d bytes; the limit is %(limit)d bytes.") % {"size": size, "limit": limit},
            field="file",
        )


def add_evidence(*, by, update: ProgressUpdate, upload) -> Evidence:
    """Attach a file to a draft or returned update, after checking its size, its content's type, and
    that the same file is not attached already."""
    _check_may_change_files(by, update, _("add"))
    check_size(upload.size)
    content_type = sniff_content_type(upload)
    if content_type is None:
        raise UnsupportedFileType(
            _("The file's content is not a PDF, DOCX, XLSX, CSV, PNG or JPEG file, whatever its name."), field="file"
        )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    sha256 = digest.hexdigest()
    same = update.evidence.filter(sha256=sha256).first()
    if same is not None:
        raise AlreadyExists(
            _("This file is already attached to the update, as %(name)s.") % {"name": same.original_name},
            field="file",
            existing_id=same.pk,
        )
    # A store that refuses the file raises StorageUnavailable here: no row is written.
    path = storage.save(storage_name(update, sha256, upload.name), upload)
    try:
        with transaction.atomic():
            return Evidence.objects.create(
                update=update,
                file=path,
                original_name=upload.name[-ORIGINAL_NAME_MAX:],
                content_type=content_type,
                size=upload.size,
                sha256=sha256,
                uploaded_by=by,
            )
    except Exception:
        # No row, no file.
        storage.delete(path)
        raise


@transaction.atomic
def remove_evidence(*, by, evidence: Evidence) -> None:
    """Remove a file from a draft or returned update; the conversation records who removed which file."""
    update = (
        ProgressUpdate.objects.select_for_update(of=("self",))
        .select_related("period", "office")
        .get(pk=evidence.update_id)
    )
    _check_may_change_files(by, update, _("remove"))
    name, path = evidence.original_name, evidence.file.name
    evidence.delete()
    record_comment(update, by, UpdateComment.Kind.EVIDENCE_REMOVED, name)
    # The file goes once the removal is committed; a rollback leaves row and file together.
    transaction.on_commit(lambda: storage.delete(path))


@transaction.atomic
def publish_evidence(*, by, evidence: Evidence, public: bool) -> Evidence:
    """Make a file public, or no longer: the IATI export links to a public file, and anyone may download it,
    once its update is approved. Programme officers choose; a restricted activity's files are never published.
    The update's conversation records who did it, and when.

    Whatever the update's state: publishing changes no figure or text of the update, only who may read the file.
    """
    if not is_officer(by):
        raise NotAllowed(_("Only programme officers choose which evidence is published."))
    if public and not evidence.update.activity.is_publishable:
        raise NotAllowed(_("Evidence of a restricted activity is never published."))
    _set_public(evidence, public=public, by=by)
    return evidence


def unpublish_activity_evidence(*, activity: Activity, by) -> int:
    """Make the public files of an activity that may no longer be published (it was made restricted) private
    again, each recorded on its update, and say how many: they do not come back public should the activity be
    made internal again. Call it in the transaction that saves the activity."""
    if activity.is_publishable:
        return 0
    files = Evidence.objects.filter(update__activity=activity, public=True).select_related("update")
    return sum(_set_public(evidence, public=False, by=by) for evidence in files)


def _set_public(evidence: Evidence, *, public: bool, by) -> bool:
    """Set the file's public flag unless it has it already (a conditional update: of two requests, one records
    the change), and record the change in its update's conversation."""
    changed = (
        Evidence.objects.filter(pk=evidence.pk).exclude(public=public).update(public=public, updated_at=timezone.now())
    )
    evidence.public = public
    if changed:
        kind = UpdateComment.Kind.EVIDENCE_PUBLISHED if public else UpdateComment.Kind.EVIDENCE_UNPUBLISHED
        record_comment(evidence.update, by, kind, evidence.original_name)
    return bool(changed)
