"""A case's attachment, answered only to staff who see the case (another unit's file, like an
unknown id, is a 404 so ids cannot be probed). See core/protected_media.py."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.views.decorators.http import require_GET

from minsheng.cases import selectors as case_selectors
from minsheng.cases.models import Attachment
from minsheng.core.protected_media import stored_file_response


@login_required
@require_GET
def case_attachment(request, pk: int):
    try:
        attachment = case_selectors.attachment_for_user(user=request.user, pk=pk)
    except Attachment.DoesNotExist:
        raise Http404("no such attachment") from None
    return stored_file_response(attachment)
