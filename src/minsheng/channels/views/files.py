"""Forum and field-visit photos, each answered only to staff who see its record (another
unit's photo, like an unknown id, is a 404). See core/protected_media.py."""

from __future__ import annotations

from django.views.decorators.http import require_GET

from minsheng.core.protected_media import file_response

from .. import selectors
from .common import channels_staff, object_or_404


def _photo_response(photo):
    return file_response(photo.file, content_type=photo.content_type, download_name=photo.stored_name)


@channels_staff
@require_GET
def forum_photo(request, pk: int):
    return _photo_response(object_or_404(selectors.forum_photos_visible_to(request.user), pk=pk))


@channels_staff
@require_GET
def visit_photo(request, pk: int):
    return _photo_response(object_or_404(selectors.visit_photos_visible_to(request.user), pk=pk))
