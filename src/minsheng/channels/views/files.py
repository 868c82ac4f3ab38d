"""Forum and field-visit photos, each answered only to staff who see its record (another
unit's photo, like an unknown id, is a 404). See core/protected_media.py."""

from __future__ import annotations

from django.views.decorators.http import require_GET

from minsheng.core.protected_media import stored_file_response

from .. import selectors
from .common import channels_staff, object_or_404


@channels_staff
@require_GET
def forum_photo(request, pk: int):
    return stored_file_response(object_or_404(selectors.forum_photos_visible_to(request.user), pk=pk))


@channels_staff
@require_GET
def visit_photo(request, pk: int):
    return stored_file_response(object_or_404(selectors.visit_photos_visible_to(request.user), pk=pk))
