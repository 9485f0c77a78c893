"""Tell an upload's type from its content, never from its name or the browser's claim."""

import csv
import io
import zipfile
from pathlib import PurePosixPath

import filetype

# Types filetype recognises by signature, and the ones accepted as evidence.
ACCEPTED_SIGNATURES = {
    "application/pdf": "application/pdf",
    "image/png": "image/png",
    "image/jpeg": "image/jpeg",
}
OOXML = {
    "word/document.xml": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/workbook.xml": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CSV_SAMPLE_BYTES = 64 * 1024
# The extension a file is served under, from its sniffed type: never the one its uploader gave it.
EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    OOXML["word/document.xml"]: ".docx",
    OOXML["xl/workbook.xml"]: ".xlsx",
    "text/csv": ".csv",
}
UNKNOWN_TYPE = "application/octet-stream"


def _office_document_type(upload) -> str | None:
    try:
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    for part, content_type in OOXML.items():
        if part in names:
            return content_type
    return None


def _is_csv(sample: bytes) -> bool:
    if not sample or b"\0" in sample:
        return False
    try:
        text = sample.decode("utf-8-sig")
    except UnicodeDecodeError:
        # The sample may end inside a multi-byte character.
        try:
            text = sample[:-3].decode("utf-8-sig")
        except UnicodeDecodeError:
            return False
    if any(ord(char) < 32 and char not in "\t\r\n" for char in text):
        return False
    rows = list(csv.reader(io.StringIO(text)))
    return bool(rows) and any(len(row) > 1 for row in rows)


def sniff_content_type(upload) -> str | None:
    """Return the accepted content type of the upload, or None when its content is not accepted."""
    upload.seek(0)
    head = upload.read(CSV_SAMPLE_BYTES)
    upload.seek(0)
    kind = filetype.guess(head)
    try:
        if kind is not None and kind.mime in ACCEPTED_SIGNATURES:
            return ACCEPTED_SIGNATURES[kind.mime]
        if head.startswith(b"PK\x03\x04"):
            return _office_document_type(upload)
        if kind is None and _is_csv(head):
            return "text/csv"
        return None
    finally:
        upload.seek(0)


def served_as(original_name: str, content_type: str) -> tuple[str, str]:
    """The name and content type to serve a file under: its original name with the extension of its sniffed
    type in place of its own (a CSV uploaded as x.svg is served as x.csv, text/csv); a type not accepted
    (none should be stored) as bytes."""
    stem = PurePosixPath(original_name).stem or "evidence"
    if content_type not in EXTENSIONS:
        return f"{stem}.bin", UNKNOWN_TYPE
    return stem + EXTENSIONS[content_type], content_type
