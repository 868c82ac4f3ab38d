"""Answering a request for an uploaded file once the view has decided the user may have it.

Uploaded files (case attachments, forum and visit photos) are never served by their path:
residents' photos show faces, house numbers and documents. A view in the owning app finds the
record through the same visibility rule as its page, then calls `file_response`:

- embedded (MINSHENG_MEDIA_ACCEL_PREFIX empty): Django streams the file itself;
- behind nginx (the prefix set, e.g. "/protected-media/"): the answer is empty and carries
  `X-Accel-Redirect: <prefix><stored path>`, and nginx sends the file from an `internal`
  location that no browser can request directly (docs/deploy.md).
"""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponse
from django.utils.http import content_disposition_header

#: Shown in the page (<img>); anything else is offered as a download, so a stored document
#: is never rendered by the browser in the site's origin.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})

#: Kept by the browser for a short while only, and never by a shared cache: a user whose
#: access is withdrawn stops seeing the file within minutes.
CACHE_CONTROL = "private, max-age=300"


def file_response(stored: FieldFile, *, content_type: str, download_name: str) -> HttpResponse:
    """The answer carrying `stored` (a FileField's file): 404 when it is missing on disk."""
    if not stored or not stored.name:
        raise Http404("no file")
    inline = content_type in INLINE_TYPES
    prefix = getattr(settings, "MINSHENG_MEDIA_ACCEL_PREFIX", "")
    if prefix:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + quote(stored.name.lstrip("/"))
    else:
        try:
            handle = stored.storage.open(stored.name, "rb")
        except (FileNotFoundError, IsADirectoryError):
            raise Http404("file missing") from None
        response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(not inline, download_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = CACHE_CONTROL
    return response


def stored_file_response(record) -> HttpResponse:
    """`file_response` for an uploaded-file record (a case's `Attachment`, a channel's photo):
    its file, its checked content type, and its stored name for the download."""
    return file_response(record.file, content_type=record.content_type, download_name=record.stored_name)
