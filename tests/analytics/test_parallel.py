"""Outside a transaction the three statements of a figure run at once on their own
connections (PostgreSQL, or SQLite in a file); the figures are the same as one after the
other."""

import datetime as dt
from unittest import mock

import pytest
from django.db import connection

from minsheng.analytics.selectors import rates as selectors
from tests.analytics.conftest import Story
from tests.factories import CaseMaker, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def test_parallel_and_sequential_figures_agree(committed_district):
    users = {"dispatcher": make_user("dispatcher", "dispatcher"), "street": make_user("street-JSL", "handler", "street:JSL")}
    story = Story(users, CaseMaker(users))
    for ack in ("2026-11-30 10:00", "2026-11-30 16:00"):
        case = story.new("2026-11-30 08:00")
        story.run(case, [("2026-11-30 09:00", "dispatch"), (ack, "acknowledge"), ("2026-11-30 11:00", "contact"),
                         ("2026-12-01 10:00", "reply"), ("2026-12-01 11:00", "approve"), ("2026-12-02 09:00", "feedback", {"rating": "basic"})])
    period = {"start": dt.date(2026, 11, 1), "end": dt.date(2027, 1, 1)}
    assert not connection.in_atomic_block and selectors._may_read_in_parallel()
    with mock.patch.object(selectors, "PARALLEL", True), mock.patch.object(selectors, "ThreadPoolExecutor", wraps=selectors.ThreadPoolExecutor) as pool:
        parallel = selectors.district_rates(**period)
    assert pool.called
    with mock.patch.object(selectors, "PARALLEL", False):
        sequential = selectors.district_rates(**period)
    assert parallel == sequential
    assert (parallel.dispatches, parallel.responded, parallel.replies_on_time, parallel.feedbacks) == (2, 1, 2, 2)
