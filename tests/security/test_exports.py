"""Every Excel ledger is safe to open: text that a spreadsheet would take for a formula
(starting with = + - @, a tab or a carriage return) is written as text, escaped with a
leading apostrophe, never as a formula — whoever typed it (a resident's appeal, a survey
answer, a forum issue, a visit note, a topic title, a search that ends up in the audit log).

The exports are found from the URL table (every URL ending in .xlsx); one missing from
EXPORTS below fails the test, so a new ledger gets checked."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from minsheng.cases import services
from minsheng.cases.models import Category
from minsheng.channels import services as channels
from tests.factories import unit

from .routes import site_routes

pytestmark = pytest.mark.django_db

MARK = "ZQXJ"
#: What residents type to attack whoever opens the ledger; each carries MARK to be found.
FORMULAS = (
    f'=HYPERLINK("http://evil.example/?{MARK}","点我")',
    f"+SUM(1,1)*cmd|' /C calc'!A0{MARK}",
    f"-2+3{MARK}",
    f"@SUM(A1){MARK}",
    f"\t=1+1{MARK}",
    f"\r=1+1{MARK}",
)
HOSTILE_TEXT = FORMULAS[0]  # leads the text: the cell starts with "="
HOSTILE_BODY = f"{HOSTILE_TEXT} 计划路菜市场门口垃圾三天没人清运 " + " ".join(FORMULAS[1:])


@pytest.fixture
def hostile(users):
    """Records whose free text starts like a formula, in every ledger's source."""
    admin, jsl03 = users["admin"], unit("community:JSL03")
    made = {}
    for i, formula in enumerate(FORMULAS):
        case = services.case_submit(
            text=f"{formula} 计划路菜市场门口垃圾三天没人清运", channel="web", address=formula, reporter_phone="13812345678",
            reporter_name=formula[:40], community=jsl03, category=Category.objects.get(code="CGM.HJWS"), urgency="normal")
        services.case_dispatch(case=case, acting_user=users["dispatcher"], unit=unit("street:JSL"))
        made.setdefault("case", case)
    survey = channels.survey_create(acting_user=admin, title=FORMULAS[0], owner_unit=jsl03)
    question = channels.survey_question_add(survey=survey, section=survey.sections.get(), acting_user=admin, kind="text", text=FORMULAS[3])
    channels.survey_publish(survey=survey, acting_user=admin)
    for formula in FORMULAS:
        channels.survey_response_submit(survey=survey, answers={question.pk: formula}, community=jsl03)
    made["survey"] = survey
    made["forum"] = channels.forum_record(acting_user=admin, kind="community", title=FORMULAS[0], held_on=timezone.localdate(),
                                          place=FORMULAS[2], host_unit=jsl03, minutes=FORMULAS[1],
                                          issues=[{"text": f"{f} 占道经营严重"} for f in FORMULAS])
    made["visit"], _ = channels.visit_record(acting_user=admin, community=jsl03, visited_at=timezone.now(), place=FORMULAS[0],
                                             client_key="exports-visit-1", people_met=FORMULAS[3], situation=FORMULAS[1],
                                             findings=[FORMULAS[2]])
    from tests.channels.conftest import csv_bytes

    rows = [(f"{f} 楼道灯坏了", f, f[:20], "not-a-phone", "热线电话", "", "", "", "") for f in FORMULAS]
    made["batch"] = channels.import_batch_create(acting_user=users["operator"], filename=f"{FORMULAS[0]}.csv", content=csv_bytes(rows))
    from minsheng.analytics.services import topic_adopt

    made["topic"] = topic_adopt(acting_user=admin, month=timezone.localdate(), category=Category.objects.get(code="CGM.HJWS"),
                                street=unit("street:JSL"), community=jsl03, owner_unit=unit("street:JSL"),
                                title=FORMULAS[0][:60], plan=FORMULAS[1])
    return made


def _month() -> str:
    return f"{timezone.localdate():%Y-%m}"


def _today() -> str:
    return timezone.localdate().isoformat()


#: URL name → (role, path kwargs from the records, query) of one export with hostile content.
EXPORTS = {
    "desk:export": ("dispatcher", lambda h: {"key": "all"}, lambda h: {"q": FORMULAS[0]}),
    "desk:audit_export": ("admin", lambda h: {}, lambda h: {}),
    "channels:survey_export": ("admin", lambda h: {"pk": h["survey"].pk}, lambda h: {}),
    "channels:forum_export": ("admin", lambda h: {}, lambda h: {}),
    "channels:visit_ledger_export": ("admin", lambda h: {}, lambda h: {}),
    "channels:import_template": ("operator", lambda h: {}, lambda h: {}),
    "channels:import_report": ("operator", lambda h: {"pk": h["batch"].pk}, lambda h: {}),
    "analytics:dashboard_export": ("admin", lambda h: {}, lambda h: {"month": _month()}),
    "analytics:drilldown_export": ("admin", lambda h: {}, lambda h: {"metric": "received", "start": _today(), "end": _today()}),
    "analytics:hotspots_export": ("admin", lambda h: {"table": "recurring"}, lambda h: {}),
    "analytics:topics_export": ("admin", lambda h: {}, lambda h: {}),
    "analytics:topic_proposals_export": ("admin", lambda h: {}, lambda h: {}),
    "analytics:reporter_cases_export": ("admin", lambda h: {"token": _reporter_token(h["case"])}, lambda h: {}),
    "analytics:topic_cases_export": ("admin", lambda h: {"pk": h["topic"].pk}, lambda h: {}),
}
#: Exports whose content residents' text cannot reach: fixed headers, the district's figures,
#: hotspot tables of counts by category and place (names from the taxonomy and gazetteer).
NO_FREE_TEXT = {"channels:import_template", "analytics:dashboard_export", "analytics:hotspots_export",
                "analytics:topic_proposals_export"}


def _reporter_token(case) -> str:
    from django.core import signing

    from minsheng.analytics.selectors.hotspots import REPORTER_TOKEN_SALT

    case.refresh_from_db()
    return signing.dumps(case.reporter_phone_index, salt=REPORTER_TOKEN_SALT)


def test_every_ledger_is_listed():
    ledgers = {name for name, route in site_routes().items() if route.pattern.endswith(".xlsx")}
    assert ledgers, "no .xlsx URL found"
    missing = sorted(ledgers - set(EXPORTS))
    assert not missing, f"Excel exports not checked for formula injection: {missing} — add them to EXPORTS in tests/security/test_exports.py"


def _cells(content: bytes):
    workbook = load_workbook(io.BytesIO(content))  # formulas are kept as formulas (data_type "f")
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            yield from row


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_no_ledger_holds_a_formula_from_user_text(client, users, hostile, name):
    role, kwargs, query = EXPORTS[name]
    client.force_login(users[role])
    if name == "desk:audit_export":  # put a hostile search into the audit log first (exports are audited with their filters)
        client.get(reverse("desk:export", args=["all"]), {"q": FORMULAS[0]})
    if name == "analytics:hotspots_export":
        for table in ("heat", "weekly", "rising", "recurring", "reporters"):
            response = client.get(reverse(name, kwargs={"table": table}))
            assert response.status_code == 200, (table, response.status_code)
            _check(response.content, name, expect_text=False)
    response = client.get(reverse(name, kwargs=kwargs(hostile)), query(hostile))

    assert response.status_code == 200, (name, response.status_code)
    assert "spreadsheetml" in response["Content-Type"]
    _check(response.content, name, expect_text=name not in NO_FREE_TEXT)


def _check(content: bytes, name: str, *, expect_text: bool) -> None:
    marked = 0
    for cell in _cells(content):
        value = cell.value
        if cell.data_type == "f":
            assert MARK not in str(value) and "HYPERLINK" not in str(value).upper() and "cmd" not in str(value), (name, cell.coordinate, value)
        if isinstance(value, str) and (MARK in value or "evil.example" in value):
            marked += 1
            assert cell.data_type in ("s", "inlineStr"), (name, cell.coordinate, value)
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (name, cell.coordinate, value)
    if expect_text:
        assert marked, f"{name}: the hostile text did not reach the ledger, so the test proves nothing"
