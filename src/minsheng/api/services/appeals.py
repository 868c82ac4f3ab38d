"""Residents' appeals through the public API: submit (idempotently), follow, rate. Each call
goes through the case engine's services, like the residents' pages do."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from minsheng.cases.choices import Channel
from minsheng.cases.errors import ActionNotAllowed
from minsheng.cases.models import Case
from minsheng.cases.selectors import proves_reporter
from minsheng.cases.services import case_attach, case_record_feedback, case_submit
from minsheng.cases.workflow import RESIDENT
from minsheng.core.services import audit_appends_together
from minsheng.intake.services import Photo, route_if_in_request, route_new_case_later

from ..errors import IdempotencyKeyReused
from ..selectors import public_appeal_find

#: Keys sent in the Idempotency-Key header are stored on the case under this namespace, so
#: they can never collide with the residents' page's form tokens (h5:...).
IDEMPOTENCY_NAMESPACE = "api:"


@dataclass(frozen=True)
class Submission:
    """The result of a public submission; `replayed` when the key had been seen before."""

    case: Case
    replayed: bool


def public_appeal_submit(
    *,
    text: str,
    address: str = "",
    reporter_name: str = "",
    reporter_phone: str = "",
    channel: str = Channel.API,
    photos: Sequence[Photo] = (),
    idempotency_key: str = "",
) -> Submission:
    """File an appeal and have intelligent dispatch run on it (by a worker, right after the
    answer; in the request itself where no worker is woken — see route_if_in_request).

    With an idempotency key, a retry returns the case the first call made and nothing is
    filed, attached or dispatched again; concurrent retries meet at the unique key in the
    database (case_submit returns the winner's case to the others). The same key with a
    different text is refused rather than silently answered with another appeal.
    """
    key = f"{IDEMPOTENCY_NAMESPACE}{idempotency_key}" if idempotency_key else None
    if key:
        existing = Case.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return _replay(existing, text)
    marker = timezone.now()
    # The audit entry goes in last (audit_appends_together): the chain's lock, which every
    # filing takes, is held only for that write and the commit, not for the routing request too.
    with transaction.atomic(), audit_appends_together():
        case = case_submit(
            text=text, channel=channel, address=address, reporter_name=reporter_name, reporter_phone=reporter_phone,
            idempotency_key=key, submitted_at=marker,
        )
        # case_submit hands back the earlier case for a key it has seen: only the call that
        # made the case (it carries this call's submission time) attaches the photos.
        created = case.submitted_at == marker
        if created:
            for photo in photos:
                case_attach(case=case, content=photo.content, filename="photo", content_type=photo.content_type)
            route_new_case_later(case)
    if not created:
        return _replay(case, text)
    route_if_in_request(case)
    return Submission(case=case, replayed=False)


def _replay(case: Case, text: str) -> Submission:
    if " ".join(case.text.split()) != " ".join((text or "").split()):
        raise IdempotencyKeyReused("该 Idempotency-Key 已用于另一条诉求；每条新诉求请使用新的键。")
    return Submission(case=case, replayed=True)


def public_feedback(
    *, tracking_code: str, phone_last4: str, rating: str, resolved: bool | None = None, comment: str = "",
    expected_version: int | None = None,
) -> Case:
    """The resident's rating of the answer: closes the case, or reopens it when unsatisfied."""
    case = public_appeal_find(tracking_code=tracking_code, phone_last4=phone_last4)
    if not proves_reporter(case=case, phone_last4=phone_last4):  # a co-reporter's digits follow, never rate
        raise ActionNotAllowed("评价须由反映人本人作出：请使用提交诉求时留的手机号后四位。")
    case_record_feedback(case=case, rating=rating, resolved=resolved, comment=comment, acting_user=RESIDENT,
                         expected_version=expected_version)
    case.refresh_from_db()
    return case
