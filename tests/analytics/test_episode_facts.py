"""The episode facts an acknowledgement, contact or reply records when it is appended
(cases/episodes.py): what the engine writes, what the backfill migration recomputes for old
rows, and what the demo history writes are the same. Deadlines as in test_rates.py: a normal
case dispatched Monday 2026-11-30 09:00 is to be acknowledged by 14:30, contacted by Tuesday
09:00 and resolved by 2026-12-09 09:00."""

import datetime as dt
import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from minsheng.cases.episodes import NO_FACTS, EpisodeWalk, episode_facts_of
from minsheng.cases.models import CaseEvent
from tests.analytics.conftest import local
from tests.factories import unit

pytestmark = pytest.mark.django_db

FACTS = ("episode_at", "episode_unit_id", "due_at", "first_in_episode", "responded")
backfill = importlib.import_module("minsheng.cases.migrations.0007_event_episode_facts")
responses = importlib.import_module("minsheng.cases.migrations.0009_event_responded")


def facts(case) -> list[tuple]:
    return list(CaseEvent.objects.filter(case=case).order_by("id").values_list("action", *FACTS))


def dispatched(story, to="street:JSL"):
    case = story.new("2026-11-30 08:00")
    story.at("2026-11-30 09:00", "dispatch", case, unit=to)
    return case


def test_the_engine_records_the_episode_deadline_and_firstness(story):
    case = dispatched(story)
    story.run(case, [("2026-11-30 10:00", "acknowledge"), ("2026-11-30 11:00", "contact"), ("2026-12-01 15:00", "contact"),
                     ("2026-12-08 10:00", "reply"), ("2026-12-08 11:00", "send_back"), ("2026-12-15 10:00", "reply")])
    rows = {(action, n): row for n, (action, *row) in enumerate(facts(case))}
    street = unit("street:JSL").pk
    episode = local("2026-11-30 09:00")
    measured = [(action, row) for (action, _n), row in sorted(rows.items(), key=lambda item: item[0][1])
                if action in ("acknowledge", "contact", "reply")]
    assert measured == [
        ("acknowledge", [episode, street, local("2026-11-30 14:30"), True, None]),
        # Acknowledged and contacted on time: the contact completes the response.
        ("contact", [episode, street, local("2026-12-01 09:00"), True, True]),
        ("contact", [episode, street, None, False, None]),  # a later contact is held to nothing
        ("reply", [episode, street, local("2026-12-09 09:00"), True, None]),
        # The send-back at 12-08 11:00 started a fresh clock of 7 working days.
        ("reply", [episode, street, local("2026-12-17 11:00"), False, None]),
    ]
    assert all(row == [None, None, None, None, None] for (action, _n), row in rows.items() if action not in ("acknowledge", "contact", "reply"))


def test_a_delegated_case_keeps_the_street_as_the_episode_unit(story):
    case = dispatched(story)
    story.run(case, [("2026-11-30 09:30", "delegate", {"community": "community:JSL03"}), ("2026-11-30 10:00", "acknowledge")])
    ack = CaseEvent.objects.get(case=case, action="acknowledge")
    assert ack.unit_id == unit("community:JSL03").pk  # the community acknowledges...
    assert ack.episode_unit_id == unit("street:JSL").pk  # ...the street's dispatch


def test_a_redispatch_starts_a_new_episode(story):
    case = dispatched(story)
    story.run(case, [("2026-11-30 09:30", "acknowledge"), ("2026-11-30 10:00", "return"),
                     ("2026-11-30 11:00", "dispatch", {"unit": "dept:CGJ"}), ("2026-11-30 11:30", "acknowledge")])
    acks = list(CaseEvent.objects.filter(case=case, action="acknowledge").order_by("id").values_list("episode_at", "episode_unit_id", "first_in_episode"))
    assert acks == [(local("2026-11-30 09:00"), unit("street:JSL").pk, True), (local("2026-11-30 11:00"), unit("dept:CGJ").pk, True)]


def test_an_approved_extension_moves_the_replys_deadline_and_a_refused_one_does_not():
    walk = EpisodeWalk()
    at = dt.datetime(2026, 11, 30, 9, tzinfo=dt.UTC)
    walk.step("dispatch", at, 7, {"acknowledge_due_at": "2026-11-30T10:00:00+00:00", "contact_due_at": "2026-12-01T09:00:00+00:00",
                                  "resolve_due_at": "2026-12-09T09:00:00+00:00"})
    walk.step("decide_extension", at, 7, {"approved": False})
    assert walk.facts_for("reply", at).due_at == dt.datetime(2026, 12, 9, 9, tzinfo=dt.UTC)
    walk.step("decide_extension", at, 7, {"approved": True, "resolve_due_at": "2026-12-14T09:00:00+00:00"})
    assert walk.facts_for("reply", at).due_at == dt.datetime(2026, 12, 14, 9, tzinfo=dt.UTC)
    assert walk.facts_for("note", at) == NO_FACTS


def test_nothing_before_the_first_dispatch_is_in_an_episode():
    at = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
    assert episode_facts_of([("submit", at, None, {})], "contact", at) == NO_FACTS


def test_a_late_half_means_no_response_and_the_later_half_completes_one():
    def dispatch(walk):
        walk.step("dispatch", dt.datetime(2026, 11, 30, 9, tzinfo=dt.UTC), 7, {
            "acknowledge_due_at": "2026-11-30T12:00:00+00:00", "contact_due_at": "2026-12-01T09:00:00+00:00",
            "resolve_due_at": "2026-12-09T09:00:00+00:00"})
        return walk

    def at(hour, day=30):
        return dt.datetime(2026, 11 if day == 30 else 12, day, hour, tzinfo=dt.UTC)

    contact_first = dispatch(EpisodeWalk())
    assert contact_first.step("contact", at(10), 7, {}).responded is None
    assert contact_first.step("acknowledge", at(11), 7, {}).responded is True
    late_ack = dispatch(EpisodeWalk())
    assert late_ack.step("acknowledge", at(13), 7, {}).responded is None
    assert late_ack.step("contact", at(14), 7, {}).responded is None
    late_contact = dispatch(EpisodeWalk())
    assert late_contact.step("acknowledge", at(10), 7, {}).responded is None
    assert late_contact.step("contact", at(10, day=1), 7, {}).responded is None  # 10:00 > 09:00 the next day
    assert late_contact.step("contact", at(11, day=1), 7, {}).responded is None  # a later contact mends nothing


def test_the_backfill_recomputes_what_the_engine_recorded(story):
    cases = [dispatched(story), dispatched(story, to="dept:CGJ")]
    story.run(cases[0], [("2026-11-30 09:30", "delegate", {"community": "community:JSL03"}), ("2026-11-30 10:00", "acknowledge"),
                         ("2026-11-30 16:00", "contact"), ("2026-12-08 10:00", "reply"), ("2026-12-08 11:00", "send_back"),
                         ("2026-12-10 10:00", "reply")])
    story.run(cases[1], [("2026-11-30 12:00", "acknowledge"), ("2026-11-30 13:00", "return"),
                         ("2026-11-30 14:00", "dispatch", {"unit": "street:JSL"}), ("2026-11-30 15:00", "contact")])
    recorded = [facts(case) for case in cases]
    assert sum(row[1] is not None for rows in recorded for row in rows) == 6
    assert sum(row[5] is True for rows in recorded for row in rows) == 1  # the second case's redispatch was never acknowledged
    CaseEvent.objects.update(episode_at=None, episode_unit=None, due_at=None, first_in_episode=None, responded=None)
    backfill.record_episode_facts(apps, SimpleNamespace(connection=connection))
    responses.mark_responses(apps, SimpleNamespace(connection=connection))
    assert [facts(case) for case in cases] == recorded


verdicts = importlib.import_module("minsheng.cases.migrations.0008_event_judged_outcome")


def test_judged_events_carry_their_verdict_and_the_migration_copies_the_same(story):
    case = dispatched(story, to="dept:CGJ")
    story.run(case, [("2026-11-30 10:00", "acknowledge"), ("2026-11-30 11:00", "contact"), ("2026-11-30 12:00", "extend", {"days": 3}),
                     ("2026-11-30 13:00", "decide", {"approve": False}), ("2026-12-01 09:00", "extend", {"days": 2}),
                     ("2026-12-01 10:00", "decide"), ("2026-12-20 10:00", "flag"), ("2026-12-21 10:00", "reply"),
                     ("2026-12-21 11:00", "approve"), ("2026-12-22 09:00", "feedback", {"rating": "unsatisfied", "resolved": False}),
                     ("2026-12-23 10:00", "reply"), ("2026-12-23 11:00", "approve"), ("2026-12-24 09:00", "feedback", {"rating": "basic"})])
    recorded = list(CaseEvent.objects.filter(case=case).order_by("id").values_list("action", "outcome", "resolved"))
    judged = [row for row in recorded if row[1] is not None or row[2] is not None]
    assert judged == [
        ("decide_extension", "refused", None), ("decide_extension", "approved", None), ("flag", "red", None),
        ("feedback_reopen", "unsatisfied", False), ("feedback_close", "basic", True),
    ]
    CaseEvent.objects.update(outcome=None, resolved=None)
    verdicts.copy_verdicts(apps, SimpleNamespace(connection=connection))
    assert list(CaseEvent.objects.filter(case=case).order_by("id").values_list("action", "outcome", "resolved")) == recorded
