"""Residents' endpoints (no token): submit an appeal, follow it, rate the answer. Rate-limited
per IP (and per tracking code when following one)."""

import json
from typing import Optional

from django.conf import settings
from django.http import HttpResponse
from ninja import Header, Path, Query, Router
from ninja.errors import ValidationError
from ninja.responses import Status
from pydantic import ValidationError as PydanticError

from minsheng.cases.errors import InvalidInput
from minsheng.cases.selectors import proves_reporter
from minsheng.core.uploads import image_reencode
from minsheng.core.text import first_unstorable, unstorable_message
from minsheng.intake.selectors import appeal_for_resident, appeal_progress
from minsheng.intake.services import Photo

from ..selectors import public_appeal_find
from ..services.appeals import public_appeal_submit, public_feedback
from . import render
from .schemas import AppealIn, AppealOut, ErrorOut, FeedbackIn, TrackOut
from .throttle import check_rate

router = Router(tags=["public"])

IDEMPOTENCY_KEY = r"^[A-Za-z0-9_.:\-]{8,64}$"
_TRACKING_CODE = {"max_length": 20, "pattern": r"^[0-9A-Za-z]{1,20}$"}


class UnsupportedMediaType(Exception):
    """The body is neither JSON nor a form."""


def _appeal_body_schema() -> dict:
    schema = AppealIn.model_json_schema()
    schema.pop("title", None)
    multipart = json.loads(json.dumps(schema))
    multipart["properties"]["photos"] = {
        "type": "array",
        "items": {"type": "string", "format": "binary"},
        "maxItems": settings.MINSHENG_MAX_PHOTOS,
        "description": "JPEG, PNG or WebP photos; re-encoded without their metadata.",
    }
    return {"required": True, "content": {"application/json": {"schema": schema}, "multipart/form-data": {"schema": multipart}}}


def _appeal_input(request) -> tuple[AppealIn, list[Photo]]:
    """The appeal from a JSON or a multipart body, photos checked and re-encoded."""
    uploads = []
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: nested past reason
            raise InvalidInput("请求体不是有效的 JSON。") from exc
        if not isinstance(data, dict):
            raise InvalidInput("请求体应为 JSON 对象。")
    elif request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        data = {key: request.POST.get(key) for key in request.POST}
        uploads = request.FILES.getlist("photos")
    else:
        raise UnsupportedMediaType()
    if (bad := first_unstorable(data)) is not None:
        raise InvalidInput(unstorable_message(bad))
    try:
        appeal = AppealIn.model_validate(data)
    except PydanticError as exc:
        raise ValidationError(exc.errors(include_url=False, include_context=False)) from exc
    if len(uploads) > settings.MINSHENG_MAX_PHOTOS:
        raise InvalidInput(f"最多上传{settings.MINSHENG_MAX_PHOTOS}张照片。")
    photos = []
    for number, upload in enumerate(uploads, start=1):
        if upload.size > settings.MINSHENG_MAX_UPLOAD_BYTES:
            raise InvalidInput(f"第{number}张照片太大。")
        try:
            content, content_type = image_reencode(upload.read())
        except ValueError as exc:
            raise InvalidInput(f"第{number}张照片：{exc}") from exc
        photos.append(Photo(content=content, content_type=content_type))
    return appeal, photos


@router.post(
    "/public/appeals",
    auth=None,
    response={201: AppealOut, frozenset({415, 422, 429}): ErrorOut},
    openapi_extra={"requestBody": _appeal_body_schema()},
    summary="Submit an appeal",
)
def appeal_submit(
    request, response: HttpResponse,
    idempotency_key: Optional[str] = Header(None, alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY),
):
    """File a resident's appeal (JSON, or multipart with photos) and run intelligent dispatch
    on it. With an `Idempotency-Key` header a retry returns the first answer and files
    nothing again (the answer then carries `Idempotent-Replayed: true`)."""
    check_rate(request, "api.submit")
    appeal, photos = _appeal_input(request)
    submission = public_appeal_submit(
        text=appeal.text, address=appeal.address, reporter_name=appeal.name, reporter_phone=appeal.phone,
        channel=appeal.channel, photos=photos, idempotency_key=idempotency_key or "",
    )
    if submission.replayed:
        response["Idempotent-Replayed"] = "true"
    return Status(201, render.appeal_outcome(submission.case))


@router.get(
    "/public/appeals/{tracking_code}",
    auth=None,
    response={200: TrackOut, frozenset({404, 422, 429}): ErrorOut},
    summary="Follow an appeal",
)
def appeal_track(
    request,
    tracking_code: str = Path(..., **_TRACKING_CODE),
    phone_last4: str = Query("", pattern=r"^(\d{4})?$", description="Last four digits of the phone given with the appeal."),
):
    """Where the appeal stands and its public timeline, as on the resident's tracking page."""
    check_rate(request, "api.track", also=tracking_code.upper())
    case = public_appeal_find(tracking_code=tracking_code, phone_last4=phone_last4)
    progress = render.progress(appeal_progress(case=appeal_for_resident(tracking_code=case.tracking_code)))
    # A co-reporter's digits follow the appeal; rating it is the reporter's (services.appeals).
    progress["can_rate"] = progress["can_rate"] and proves_reporter(case=case, phone_last4=phone_last4)
    return progress


@router.post(
    "/public/appeals/{tracking_code}/feedback",
    auth=None,
    response={200: TrackOut, frozenset({403, 404, 409, 422, 429}): ErrorOut},
    summary="Rate the answer",
)
def appeal_feedback(request, payload: FeedbackIn, tracking_code: str = Path(..., **_TRACKING_CODE)):
    """The resident's verdict once the appeal is answered: satisfied or basically satisfied
    closes it; unsatisfied sends it back for re-handling."""
    check_rate(request, "api.feedback")
    case = public_feedback(
        tracking_code=tracking_code, phone_last4=payload.phone_last4, rating=payload.rating, resolved=payload.resolved,
        comment=payload.comment, expected_version=payload.expected_version,
    )
    return render.progress(appeal_progress(case=appeal_for_resident(tracking_code=case.tracking_code)))
