"""Residents' personal data in the channels' records (PIPL), as the case engine treats its own
(cases/privacy.py): erased after the retention period, and erased when a resident asks.

What each record holds, and what erasing it means (the rest — the text with its phones, ID
numbers and names blanked, the place down to the community, times, counts — stays for the
statistics and the meeting and visit ledgers):

- a survey response: the respondent's phone (and the phone's "one answer" key);
- a suggestion-box note: the name, phone and place given;
- a forum issue: who raised it, their phone, the place; a forum: its attendees' names;
- a field visit: the household visited (a shop or public place is not personal data and is
  kept), the people met, the phone;
- an import batch: names, phones and addresses of rows not imported (an imported row's copy is
  dropped as it becomes an appeal; the appeal holds it from then on).

A record is purged once it is older than the retention period and every appeal it became is
erased or finished before that period too, so the record never outlives its appeal's data and
the appeal's source link stays useful while the appeal is handled. The holder is registered
with the case engine at start-up (apps.py), so `minsheng purge`, the nightly job and the
erasure page cover these records too.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from minsheng.cases.choices import FINAL_STATES
from minsheng.cases.models import Case
from minsheng.core.crypto import blind_index, redact_text

from .choices import ImportRowStatus, PlaceKind
from .models import Forum, ForumAttendee, ForumIssue, ImportBatch, ImportRow, SuggestionNote, SurveyAnswer, SurveyResponse, Visit, VisitFinding

BATCH = 500
_NAME_SPLIT = re.compile(r"[、，,；;\s]+")


def _live_cases(cutoff: dt.datetime) -> QuerySet[Case]:
    """Appeals whose personal data the retention purge keeps: not erased, and not finished
    before the cutoff."""
    return Case.objects.filter(personal_data_erased_at__isnull=True).exclude(state__in=FINAL_STATES, closed_at__lt=cutoff)


def _in_batches(queryset: QuerySet):
    """The rows of `queryset` in primary-key order, BATCH at a time, re-reading the
    (shrinking) set each time so an erased row is never picked again."""
    last = 0
    while True:
        rows = list(queryset.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not rows:
            return
        yield rows
        last = rows[-1].pk


def _names(text: str) -> tuple[str, ...]:
    return tuple(part for part in _NAME_SPLIT.split(text or "") if len(part) >= 2)


def _erase_responses(queryset: QuerySet[SurveyResponse], now: dt.datetime) -> int:
    count = 0
    for rows in _in_batches(queryset):
        ids = [r.pk for r in rows]
        for answer in SurveyAnswer.objects.filter(response_id__in=ids).exclude(text_value="").only("id", "text_value"):
            cleaned = redact_text(answer.text_value)
            if cleaned != answer.text_value:
                SurveyAnswer.objects.filter(pk=answer.pk).update(text_value=cleaned)
        # A phone-limited answer's key is the phone's blind index: it goes with the phone.
        SurveyResponse.objects.filter(pk__in=ids, limit_key__startswith="p:").update(limit_key=None)
        SurveyResponse.objects.filter(pk__in=ids).update(phone="", phone_index="", personal_data_erased_at=now)
        count += len(ids)
    return count


def _erase_notes(queryset: QuerySet[SuggestionNote], now: dt.datetime) -> int:
    count = 0
    for rows in _in_batches(queryset.only("id", "text", "name")):
        for note in rows:
            SuggestionNote.objects.filter(pk=note.pk).update(
                name="", phone="", phone_index="", address="", text=redact_text(note.text, names=_names(note.name)), personal_data_erased_at=now,
            )
        count += len(rows)
    return count


def _erase_issues(queryset: QuerySet[ForumIssue], now: dt.datetime) -> int:
    count = 0
    for rows in _in_batches(queryset.only("id", "text", "raised_by")):
        for issue in rows:
            ForumIssue.objects.filter(pk=issue.pk).update(
                raised_by="", phone="", phone_index="", address="", text=redact_text(issue.text, names=_names(issue.raised_by)),
                personal_data_erased_at=now,
            )
        count += len(rows)
    return count


def _erase_forums(queryset: QuerySet[Forum], now: dt.datetime) -> int:
    """The attendees' names (their organisations and posts stay), and the phones, ID numbers
    and names in the minutes."""
    count = 0
    for rows in _in_batches(queryset.only("id", "minutes")):
        for forum in rows:
            names = tuple(n for a in ForumAttendee.objects.filter(forum=forum).only("id", "name") for n in _names(a.name))
            ForumAttendee.objects.filter(forum=forum).update(name="")
            Forum.objects.filter(pk=forum.pk).update(minutes=redact_text(forum.minutes, names=names), personal_data_erased_at=now)
        count += len(rows)
    return count


def _erase_visits(queryset: QuerySet[Visit], now: dt.datetime) -> int:
    count = 0
    for rows in _in_batches(queryset.only("id", "place", "place_kind", "people_met", "situation")):
        for visit in rows:
            names = _names(visit.people_met)
            household = visit.place_kind == PlaceKind.HOUSEHOLD
            Visit.objects.filter(pk=visit.pk).update(
                place="" if household else visit.place, people_met="", phone="", phone_index="",
                situation=redact_text(visit.situation, names=names), personal_data_erased_at=now,
            )
            for finding in VisitFinding.objects.filter(visit=visit).only("id", "text"):
                cleaned = redact_text(finding.text, names=names)
                if cleaned != finding.text:
                    VisitFinding.objects.filter(pk=finding.pk).update(text=cleaned)
        count += len(rows)
    return count


def _import_rows_with_phone(phone_index: str) -> list[ImportRow]:
    """Rows of batches not yet done whose phone is this one (the payload is encrypted JSON,
    so it is read; such batches are few and short-lived)."""
    rows = ImportRow.objects.filter(batch__personal_data_erased_at__isnull=True,
                                    status__in=(ImportRowStatus.PENDING, ImportRowStatus.INVALID)).only("id", "payload")
    return [row for row in rows.iterator(chunk_size=1000) if row.values.get("phone") and blind_index(row.values["phone"]) == phone_index]


class ChannelRecords:
    """The channels' records as a holder of residents' personal data (cases.privacy)."""

    def _due(self, cutoff: dt.datetime):
        live = _live_cases(cutoff)
        fresh = Q(personal_data_erased_at__isnull=True)
        return (
            (SurveyResponse._meta.verbose_name_plural, _erase_responses,
             SurveyResponse.objects.filter(fresh, submitted_at__lt=cutoff).exclude(answers__case__in=live)),
            (SuggestionNote._meta.verbose_name_plural, _erase_notes,
             SuggestionNote.objects.filter(fresh, submitted_at__lt=cutoff).exclude(case__in=live)),
            (ForumIssue._meta.verbose_name_plural, _erase_issues,
             ForumIssue.objects.filter(fresh, forum__held_on__lt=cutoff.date()).exclude(case__in=live)),
            (_("座谈会参会人员"), _erase_forums,
             Forum.objects.filter(fresh, held_on__lt=cutoff.date()).exclude(issues__case__in=live)),
            (Visit._meta.verbose_name_plural, _erase_visits,
             Visit.objects.filter(fresh, visited_at__lt=cutoff).exclude(findings__case__in=live)),
        )

    def purge(self, *, cutoff: dt.datetime, now: dt.datetime, dry_run: bool) -> dict[str, int]:
        result = {}
        for label, erase, due in self._due(cutoff):
            result[str(label)] = due.count() if dry_run else erase(due, now)
        batches = ImportBatch.objects.filter(personal_data_erased_at__isnull=True, created_at__lt=cutoff)
        if dry_run:
            result[str(ImportBatch._meta.verbose_name_plural)] = batches.count()
        else:
            from .services.imports import batch_personal_data_drop

            done = 0
            for batch in batches.iterator():
                batch_personal_data_drop(batch, now=now)
                ImportBatch.objects.filter(pk=batch.pk).update(personal_data_erased_at=now)
                done += 1
            result[str(ImportBatch._meta.verbose_name_plural)] = done
        return result

    def _matching(self, phone_index: str, case_ids: Sequence[int]):
        def by(phone_q: str, case_q: str) -> Q:
            q = Q(**{f"{case_q}__in": list(case_ids)}) if case_ids else Q(pk__in=[])
            if phone_index:  # never match on an empty index: it would be every record without a phone
                q |= Q(**{phone_q: phone_index})
            return q

        fresh = Q(personal_data_erased_at__isnull=True)
        return (
            (SurveyResponse._meta.verbose_name_plural, _erase_responses,
             SurveyResponse.objects.filter(pk__in=SurveyResponse.objects.filter(fresh, by("phone_index", "answers__case_id")).values("pk"))),
            (SuggestionNote._meta.verbose_name_plural, _erase_notes, SuggestionNote.objects.filter(fresh, by("phone_index", "case_id"))),
            (ForumIssue._meta.verbose_name_plural, _erase_issues, ForumIssue.objects.filter(fresh, by("phone_index", "case_id"))),
            (Visit._meta.verbose_name_plural, _erase_visits,
             Visit.objects.filter(pk__in=Visit.objects.filter(fresh, by("phone_index", "findings__case_id")).values("pk"))),
        )

    def count_for_phone(self, phone_index: str) -> dict[str, int]:
        result = {str(label): qs.count() for label, _erase, qs in self._matching(phone_index, ())}
        result[str(ImportRow._meta.verbose_name_plural)] = len(_import_rows_with_phone(phone_index)) if phone_index else 0
        return result

    def erase(self, *, phone_index: str, case_ids: Sequence[int], now: dt.datetime) -> dict[str, int]:
        """The records the resident's appeals came from, and every record with their phone."""
        result = {str(label): erase(qs, now) for label, erase, qs in self._matching(phone_index, case_ids)}
        if phone_index:
            from .services.imports import without_personal_data

            rows = _import_rows_with_phone(phone_index)
            for row in rows:
                row.values = without_personal_data(row.values)
            ImportRow.objects.bulk_update(rows, ["payload"], batch_size=BATCH)
            result[str(ImportRow._meta.verbose_name_plural)] = len(rows)
        return result



# ---------------------------------------------------------------- showing one field unmasked

#: What a staff page may show unmasked, per kind of record: the fields, and the unit whose
#: scope the record is in.
REVEALABLE = {
    "note": (SuggestionNote, ("name", "phone", "address"), lambda note: note.box.unit),
    "issue": (ForumIssue, ("raised_by", "phone", "address"), lambda issue: issue.forum.host_unit),
    "visit": (Visit, ("place", "people_met", "phone"), lambda visit: visit.community),
}


def channel_personal_data_reveal(*, acting_user, record, field: str, ip: str | None = None) -> str:
    """One personal field of a channel record, unmasked, for someone whose work needs it (a
    moderator calling back a note's writer, say); every reveal is audited, as on cases."""
    from minsheng.cases.errors import ActionNotAllowed, InvalidInput
    from minsheng.cases.privacy import may_reveal
    from minsheng.core.services import audit_record

    from . import rules

    kind = next((k for k, (model, _f, _u) in REVEALABLE.items() if isinstance(record, model)), None)
    if kind is None or field not in REVEALABLE[kind][1]:
        raise InvalidInput("未知的字段。")
    if not may_reveal(acting_user) or not rules.can_view(acting_user, REVEALABLE[kind][2](record)):
        raise ActionNotAllowed("您的角色无需查看完整的个人信息。")
    value = getattr(record, field)
    if not value:
        raise InvalidInput("没有该信息。")
    audit_record(action="unmask", actor=acting_user, target=f"{record._meta.label_lower}:{record.pk}", ip=ip, detail={"field": field})
    return value


__all__ = ["REVEALABLE", "ChannelRecords", "channel_personal_data_reveal"]
