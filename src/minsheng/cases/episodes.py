"""The facts a measured event records when it is appended: about its dispatch episode, and
the verdict it carries.

A dispatch episode is a dispatch (派单) and the case's events after it up to the next dispatch
(docs/metrics.md, "Episodes"). The rates ask three questions of an acknowledgement, a contact
or a reply: which episode is it in (the dispatch's time and unit), which deadline was it held
to, and is it the episode's first of its kind. Each answer depends only on the case's earlier
events, which never change once written, so the engine answers them once, when it appends the
event (`CaseEvent.episode_at`, `episode_unit`, `due_at`, `first_in_episode`), and the rates
become counts over one index instead of joins that pair each event with its case's history.

The judged events — a resident's answer, an extension decision, a due-date flag — carry their
verdict in `data`; `judged_outcome` copies it into two plain columns (`outcome`, `resolved`)
so that the counts read an index rather than parse every row's JSON.

`EpisodeWalk` is the one place the episode answers are worked out. The engine (`cases.services`), the
demo history, the benchmark's generator and the backfill migration all feed it a case's events
in order, so they cannot disagree; tests/analytics/test_properties.py checks the rates built on
these columns against a brute force over the raw events.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Mapping

# The actions whose facts the rates read.
MEASURED_ACTIONS = ("acknowledge", "contact", "reply")
# The two halves of a response (响应): signing for the case and contacting the resident.
RESPONSE_ACTIONS = ("acknowledge", "contact")


@dataclass(frozen=True)
class EpisodeFacts:
    episode_at: dt.datetime | None = None  # the episode's dispatch time
    episode_unit_id: int | None = None  # the unit dispatched to (credited with the response)
    due_at: dt.datetime | None = None  # the deadline this event is held to
    first_in_episode: bool | None = None  # the episode's first acknowledgement, contact or reply
    # True on the event that completes a timely response: the second of the episode's first
    # acknowledgement and first contact, both on time. None otherwise.
    responded: bool | None = None

    def as_fields(self) -> dict[str, Any]:
        return {
            "episode_at": self.episode_at,
            "episode_unit_id": self.episode_unit_id,
            "due_at": self.due_at,
            "first_in_episode": self.first_in_episode,
            "responded": self.responded,
        }


NO_FACTS = EpisodeFacts()


def _instant(value) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(value)


class EpisodeWalk:
    """Walk one case's events in order; `step` returns the facts of each event from those
    before it, then takes the event into account.

    - acknowledge: held to the episode dispatch's `acknowledge_due_at`.
    - contact: the episode's first contact is held to `contact_due_at`; later ones to nothing
      (a later contact does not mend a late first one).
    - the second of the first acknowledgement and the first contact, when both are on time,
      is marked `responded`: the episode's dispatch was answered in time.
    - reply: held to the resolve-by deadline in force — the dispatch's, moved by an approved
      extension, replaced by the fresh clock of a send-back or reopen (the latest of them
      wins); the first reply of the episode is the one whose handling time is measured.
    Events outside any episode (before the first dispatch) get no facts.
    """

    def __init__(self) -> None:
        self.dispatch_at: dt.datetime | None = None
        self.dispatch_unit_id: int | None = None
        self.acknowledge_due: dt.datetime | None = None
        self.contact_due: dt.datetime | None = None
        self.resolve_due: dt.datetime | None = None
        self.seen: set[str] = set()
        self.timely: set[str] = set()  # the first acknowledgement / first contact, when on time

    def step(self, action: str, at: dt.datetime, unit_id: int | None, data: Mapping[str, Any] | None) -> EpisodeFacts:
        data = data or {}
        facts = self.facts_for(action, at)
        if action == "dispatch":
            self.dispatch_at, self.dispatch_unit_id = at, unit_id
            self.acknowledge_due = _instant(data.get("acknowledge_due_at"))
            self.contact_due = _instant(data.get("contact_due_at"))
            self.resolve_due = _instant(data.get("resolve_due_at"))
            self.seen, self.timely = set(), set()
        elif action == "decide_extension" and data.get("approved") is True and "resolve_due_at" in data:
            self.resolve_due = _instant(data["resolve_due_at"])
        elif action in ("send_back", "feedback_reopen") and "resolve_due_at" in data:
            self.resolve_due = _instant(data["resolve_due_at"])
        if action in MEASURED_ACTIONS and self.dispatch_at is not None:
            self.seen.add(action)
            if facts.first_in_episode and action in RESPONSE_ACTIONS and facts.due_at is not None and at <= facts.due_at:
                self.timely.add(action)
        return facts

    def facts_for(self, action: str, at: dt.datetime) -> EpisodeFacts:
        """The facts an event of `action` appended at `at` would record."""
        if action not in MEASURED_ACTIONS or self.dispatch_at is None:
            return NO_FACTS
        first = action not in self.seen
        due = {
            "acknowledge": self.acknowledge_due,
            "contact": self.contact_due if first else None,
            "reply": self.resolve_due,
        }[action]
        on_time = due is not None and at <= due
        # The other half of the response already on time, and this half on time now.
        completes = action in RESPONSE_ACTIONS and first and on_time and (set(RESPONSE_ACTIONS) - {action}) <= self.timely
        return EpisodeFacts(episode_at=self.dispatch_at, episode_unit_id=self.dispatch_unit_id, due_at=due, first_in_episode=first,
                            responded=True if completes else None)


def episode_facts_of(events, action: str, at: dt.datetime) -> EpisodeFacts:
    """The facts of a new `action` at `at` after `events` (the case's events in order, as
    (action, at, unit_id, data) tuples)."""
    if action not in MEASURED_ACTIONS:
        return NO_FACTS
    walk = EpisodeWalk()
    for event_action, event_at, unit_id, data in events:
        walk.step(event_action, event_at, unit_id, data)
    return walk.facts_for(action, at)


FEEDBACK_ACTIONS = ("feedback_close", "feedback_reopen")


def judged_outcome(action: str, data: Mapping[str, Any] | None) -> dict[str, Any]:
    """The verdict a judged event carries, as the `outcome` and `resolved` columns: the
    rating of a resident's answer (satisfied / basic / unsatisfied) and whether they said it
    was resolved; "approved" or "refused" for an extension decision; the colour of a flag.
    None on every other event."""
    data = data or {}
    if action in FEEDBACK_ACTIONS:
        resolved = data.get("resolved")
        return {"outcome": data.get("rating"), "resolved": resolved if isinstance(resolved, bool) else None}
    if action == "decide_extension":
        return {"outcome": "approved" if data.get("approved") is True else "refused", "resolved": None}
    if action == "flag":
        return {"outcome": data.get("flag"), "resolved": None}
    return {"outcome": None, "resolved": None}
