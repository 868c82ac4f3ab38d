"""Two people acting on the same case at once: exactly one wins, the other is told the case
changed. Real row locks need PostgreSQL (select_for_update is a no-op on SQLite); on SQLite
the same guarantee comes from the version check and SQLite's single writer, which the
second test exercises."""

import threading

import pytest
from django.db import close_old_connections, connection

from minsheng.cases import services
from minsheng.cases.errors import StaleCase
from minsheng.cases.models import Case, CaseAssignment, CaseEvent
from minsheng.core.models import Unit
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)


def _race(n: int, action) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            action(i)
            results[i] = "ok"
        except StaleCase as exc:
            results[i] = exc
        except Exception as exc:  # surfaced in the assertion message
            results[i] = exc
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="row locks need PostgreSQL")
def test_two_concurrent_dispatches_exactly_one_wins(committed_district):
    dispatchers = [make_user(f"disp-{i}", "dispatcher") for i in range(2)]
    case = services.case_submit(text="计划路菜市场门口垃圾三天没人清运", channel="web")
    units = [Unit.objects.get(kind="street", code="JSL"), Unit.objects.get(kind="dept", code="CGJ")]

    def dispatch(i: int) -> None:
        loaded = Case.objects.get(pk=case.pk)  # both loaded version 1
        loaded.version = 1
        services.case_dispatch(case=loaded, acting_user=dispatchers[i], unit=units[i])

    results = _race(2, dispatch)
    assert sorted(type(r).__name__ if r != "ok" else "ok" for r in results) == ["StaleCase", "ok"], results
    case.refresh_from_db()
    assert case.state == "dispatched" and case.version == 2
    assert CaseEvent.objects.filter(case=case, action="dispatch").count() == 1
    assert CaseAssignment.objects.filter(case=case, active=True).count() == 1


def test_many_concurrent_acknowledgements_record_one(committed_district):
    dispatcher = make_user("disp-x", "dispatcher")
    street = Unit.objects.get(kind="street", code="JSL")
    handlers = [make_user(f"h-{i}", "handler", "street:JSL") for i in range(4)]
    case = services.case_submit(text="计划路菜市场门口垃圾三天没人清运", channel="web")
    services.case_dispatch(case=case, acting_user=dispatcher, unit=street)
    version = Case.objects.get(pk=case.pk).version

    def acknowledge(i: int) -> None:
        services.case_acknowledge(case=Case.objects.get(pk=case.pk), acting_user=handlers[i], expected_version=version)

    results = _race(4, acknowledge)
    assert results.count("ok") == 1, results
    assert all(isinstance(r, StaleCase) for r in results if r != "ok"), results
    assert CaseEvent.objects.filter(case=case, action="acknowledge").count() == 1
