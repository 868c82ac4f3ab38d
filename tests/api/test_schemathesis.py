"""Schemathesis against /api/v1/openapi.json on a live server: for every operation, bounded
generated requests (as the district administrator, who may call them all) — data that fits the
schema and data that does not — get no server error and answers that match the schema: status
codes, content types, bodies and headers.

(The operations are driven one by one with their Hypothesis strategies rather than through
schemathesis.pytest.from_fixture, whose lazy loader does not run under pytest 9.)"""

from __future__ import annotations

import datetime as dt

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from minsheng.api.services.tokens import token_create
from minsheng.cases.choices import CaseState
from tests.factories import CaseMaker, make_user

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance, response_headers_conformance]
#: Examples per operation: data that fits the schema, and data that does not.
MAX_EXAMPLES = {GenerationMode.POSITIVE: 20, GenerationMode.NEGATIVE: 10}
DEADLINE = dt.timedelta(seconds=10)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin_key(committed_district, settings):
    # Generated traffic is not a resident hammering the form: lift the public rate limits.
    settings.MINSHENG_SUBMIT_RATE = settings.MINSHENG_TRACK_RATE = settings.MINSHENG_RATE_RATE = "100000/h"
    from minsheng.dispatch.services import dispatch_engine

    dispatch_engine()  # load the model once, before the clock of the first example starts
    users = {"admin": make_user("fuzz-admin", "admin"), "dispatcher": make_user("fuzz-dispatcher", "dispatcher"),
             "street": make_user("fuzz-street", "handler", "street:JSL")}
    maker = CaseMaker(users)
    for state in (CaseState.SUBMITTED, CaseState.DISPATCHED, CaseState.AWAITING_FEEDBACK):
        maker.make(state)
    return token_create(user=users["admin"], name="schemathesis")[1]


def _exercise(operation, mode: GenerationMode, key: str) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES[mode], deadline=DEADLINE, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
    def run(case):
        case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=CHECKS, timeout=30)

    run()


def test_the_api_answers_as_its_schema_says(live_server, admin_key):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30

    failures = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _exercise(operation, mode, admin_key)
            except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failure, then report them all
                failures.append(f"{operation.label} [{mode}]: {exc}")

    assert not failures, "\n\n".join(failures)
