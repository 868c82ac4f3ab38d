"""Every URL of the site, as every role: the allowed set is an explicit table, and a URL the
table does not name fails the sweep, so a new page cannot go unchecked.

Each URL is requested as each role with its path parameters filled by an object of the
handlers' own part of the org tree (street JSL / community JSL03); URLs that name an object
are requested again with another unit's object (street LSZ / community LSZ01 — IDOR), with
the next id nobody has yet and with a made-up one. Another unit's object, the next id and a
guessed one are never shown, the answer carries none of the other unit's text or phone, and
nothing answers 5xx.

Outcomes (see sweep.outcome): ok = past every check (2xx, a redirect that is not to a login
page, or the input refused as invalid: 400/409/410/422 — channel pages turn a refusal by the
service into a redirect with a message, which also reads "ok" here; tests/channels covers
those at the service level); login = sent to the login page; track = a resident page asking
the browser to prove the appeal is theirs (tracking code + phone digits); 401/403/404/405.

Roles, in the order the expectation strings list them: anonymous, operator, dispatcher,
leader (district), admin, department handler (CGJ), street handler (JSL), community handler
(JSL03). The foreign-object column lists the roles outside the district's command centre
(anonymous, dept, street, community): the district's roles see every unit by design, and
their answer for the own object stands for any object."""

from __future__ import annotations

import pytest

from .conftest import FOREIGN_MARKERS, FOREIGN_PHONE, ROLES, isolated
from .routes import PARAMS, SITE_BODIES, SITE_QUERIES, site_routes, site_url
from .sweep import outcome

FOREIGN_ROLES = ("anon", "dept", "street", "community")
#: Who tries the next id and a guessed id: the widest staff scope and a handler.
PROBE_ROLES = ("admin", "street")
#: A page outside the workbench that answers every role alike is asked as these three only
#: (anonymous, the widest staff scope, the narrowest), to keep the sweep fast.
SAMPLE_ROLES = ("anon", "admin", "community")
REFUSED = {"login", "track", "401", "403", "404"}
#: URLs that answer an unknown or foreign object with an empty list rather than a 404 (the
#: leak check still applies).
EMPTY_FOR_UNKNOWN = {"analytics:reporter_cases", "analytics:reporter_cases_export"}

_ = None  # a URL whose parameters name no object: no foreign-object column

# URL name → (method, outcome per role for the own object, outcome for another unit's object).
SITE = {
    "healthz": ("GET", "ok ok ok ok ok ok ok ok", _),
    # Residents' pages: open to all; an appeal is shown only to the browser that proved it.
    "intake:home": ("GET", "ok ok ok ok ok ok ok ok", _),
    "intake:submit": ("GET", "ok ok ok ok ok ok ok ok", _),
    "intake:places": ("GET", "ok ok ok ok ok ok ok ok", _),
    "intake:similar": ("POST", "ok ok ok ok ok ok ok ok", _),
    "intake:join": ("POST", "ok ok ok ok ok ok ok ok", _),
    "intake:track": ("GET", "ok ok ok ok ok ok ok ok", _),
    "intake:submitted": ("GET", "ok track track track track track track track", "track track track track"),
    "intake:case": ("GET", "ok track track track track track track track", "track track track track"),
    "intake:rate": ("POST", "ok track track track track track track track", "track track track track"),
    # Workbench.
    "desk:home": ("GET", "login ok ok ok ok ok ok ok", _),
    "desk:queue": ("GET", "login ok ok ok ok ok ok ok", _),
    "desk:export": ("GET", "login ok ok ok ok ok ok ok", _),
    "desk:bulk_dispatch": ("POST", "login 403 ok 403 ok 403 403 403", _),
    "desk:case": ("GET", "login ok ok ok ok 404 ok ok", "login 404 404 404"),
    "desk:act": ("POST", "login ok ok 403 ok 404 ok 403", "login 404 404 404"),
    "desk:reveal_phone": ("POST", "login ok ok 403 ok 404 ok ok", "login 404 404 404"),
    "desk:reveal": ("POST", "login ok ok 403 ok 404 ok ok", "login 404 404 404"),
    # Uploaded files: only through the case's visibility; another unit's file is a 404.
    "desk:case_attachment": ("GET", "login ok ok ok ok 404 ok ok", "login 404 404 404"),
    "desk:hotline": ("GET", "login ok ok 403 ok 403 403 403", _),
    "desk:hotline_history": ("GET", "login ok ok 403 ok 403 403 403", _),
    "desk:notifications": ("GET", "login ok ok ok ok ok ok ok", _),
    "desk:notification_open": ("POST", "login ok ok ok ok ok ok ok", "login 404 404 404"),
    "desk:notifications_read_all": ("POST", "login ok ok ok ok ok ok ok", _),
    "desk:dispatch_quality": ("GET", "login 403 ok ok ok 403 403 403", _),
    "desk:audit": ("GET", "login 403 403 403 ok 403 403 403", _),
    "desk:audit_export": ("GET", "login 403 403 403 ok 403 403 403", _),
    "desk:audit_verify": ("POST", "login 403 403 403 ok 403 403 403", _),
    "desk:erasure": ("GET", "login 403 403 403 ok 403 403 403", _),
    "desk:twofactor_setup": ("GET", "login ok ok ok ok ok ok ok", _),
    "desk:twofactor_verify": ("GET", "login ok ok ok ok ok ok ok", _),
    # Listening channels: records of community JSL03 (own) and LSZ01 (foreign). Leaders read.
    "channels:home": ("GET", "login ok ok ok ok ok ok ok", _),
    "channels:surveys": ("GET", "login ok ok ok ok ok ok ok", _),
    "channels:survey_create": ("GET", "login ok ok 403 ok ok ok ok", _),
    "channels:survey": ("GET", "login ok ok ok ok 404 ok ok", "login 404 404 404"),
    "channels:survey_edit": ("GET", "login ok ok 403 ok 404 ok ok", "login 404 404 404"),
    "channels:section_add": ("POST", "login ok ok 403 ok 404 ok ok", "login 404 404 404"),
    "channels:question_add": ("POST", "login ok ok 403 ok 404 ok ok", "login 404 404 404"),
    "channels:survey_publish": ("POST", "login ok ok 403 ok 404 ok ok", "login 404 404 404"),
    "channels:survey_close": ("POST", "login ok ok 403 ok 404 ok ok", "login 404 404 404"),
    "channels:survey_reopen": ("POST", "login ok ok 403 ok 404 ok ok", "login 404 404 404"),
    "channels:survey_results": ("GET", "login ok ok ok ok 404 ok ok", "login 404 404 404"),
    "channels:survey_export": ("GET", "login ok ok ok ok 404 ok ok", "login 404 404 404"),
    "channels:survey_poster": ("GET", "login ok ok ok ok 404 ok ok", "login 404 404 404"),
    "channels:section_edit": ("POST", "login ok ok 403 ok 404 ok ok", "login 404 404 404"),
    "channels:section_delete": ("POST", "login ok ok 403 ok 404 ok ok", "login 404 404 404"),
    "channels:question_edit": ("GET", "login ok ok 403 ok 404 ok ok", "login 404 404 404"),
    "channels:question_delete": ("POST", "login ok ok 403 ok 404 ok ok", "login 404 404 404"),
    "channels:question_move": ("POST", "login ok ok 403 ok 404 ok ok", "login 404 404 404"),
    "channels:answer_to_appeal": ("POST", "login ok ok 403 ok 404 ok ok", "login 404 404 404"),
    "channels:boxes": ("GET", "login ok ok ok ok ok ok ok", _),
    "channels:boxes_open": ("POST", "login ok ok ok ok ok ok ok", _),
    "channels:box": ("GET", "login ok ok ok ok 404 ok ok", "login 404 404 404"),
    "channels:paper_entry": ("GET", "login ok ok 403 ok 404 ok ok", "login 404 404 404"),
    "channels:box_active": ("POST", "login ok ok ok ok 404 ok ok", "login 404 404 404"),
    "channels:box_poster": ("GET", "login ok ok ok ok 404 ok ok", "login 404 404 404"),
    "channels:notes": ("GET", "login ok ok ok ok ok ok ok", _),
    "channels:note_moderate": ("POST", "login ok ok 403 ok 404 ok ok", "login 404 404 404"),
    "channels:forums": ("GET", "login ok ok ok ok ok ok ok", _),
    "channels:forum_create": ("GET", "login ok ok 403 ok ok ok ok", _),
    "channels:forum_export": ("GET", "login ok ok ok ok ok ok ok", _),
    "channels:forum": ("GET", "login ok ok ok ok 404 ok ok", "login 404 404 404"),
    "channels:forum_edit": ("GET", "login ok ok 403 ok 404 ok ok", "login 404 404 404"),
    "channels:forum_issues_add": ("POST", "login ok ok 403 ok 404 ok ok", "login 404 404 404"),
    "channels:forum_photos_add": ("POST", "login ok ok 403 ok 404 ok ok", "login 404 404 404"),
    "channels:forum_status": ("GET", "login ok ok ok ok 404 ok ok", "login 404 404 404"),
    "channels:forum_ledger": ("GET", "login ok ok ok ok 404 ok ok", "login 404 404 404"),
    "channels:forum_photo": ("GET", "login ok ok ok ok 404 ok ok", "login 404 404 404"),
    "channels:visits": ("GET", "login ok ok ok ok ok ok ok", _),
    "channels:visit_create": ("GET", "login ok ok 403 ok 403 ok ok", _),
    "channels:visit_ledger": ("GET", "login ok ok ok ok ok ok ok", _),
    "channels:visit_ledger_export": ("GET", "login ok ok ok ok ok ok ok", _),
    "channels:visit": ("GET", "login ok ok ok ok 404 ok ok", "login 404 404 404"),
    "channels:visit_photo": ("GET", "login ok ok ok ok 404 ok ok", "login 404 404 404"),
    # A note's masked phone shown in full (audited): staff whose work needs it, in scope.
    "channels:reveal": ("POST", "login ok ok 403 ok 404 ok ok", "login 404 404 404"),
    # Bulk import is the command centre's (admin, dispatcher, operator); batches have no unit.
    "channels:import_home": ("GET", "login ok ok 403 ok 403 403 403", _),
    "channels:import_template": ("GET", "login ok ok 403 ok 403 403 403", _),
    "channels:import_batch": ("GET", "login ok ok 403 ok 403 403 403", "login 403 403 403"),
    "channels:import_report": ("GET", "login ok ok 403 ok 403 403 403", "login 403 403 403"),
    "channels:import_start": ("POST", "login ok ok 403 ok 403 403 403", "login 403 403 403"),
    "channels:import_step": ("POST", "login ok ok 403 ok 403 403 403", "login 403 403 403"),
    "channels:import_cancel": ("POST", "login ok ok 403 ok 403 403 403", "login 403 403 403"),
    # Public pages of a published survey / an open suggestion box: whoever holds the link.
    "channels:survey_answer": ("GET", "ok ok ok ok ok ok ok ok", "ok ok ok ok"),
    "channels:survey_done": ("GET", "ok ok ok ok ok ok ok ok", "ok ok ok ok"),
    "channels:survey_qr": ("GET", "ok ok ok ok ok ok ok ok", "ok ok ok ok"),
    "channels:box_note": ("GET", "ok ok ok ok ok ok ok ok", "ok ok ok ok"),
    "channels:box_done": ("GET", "ok ok ok ok ok ok ok ok", "ok ok ok ok"),
    "channels:box_qr": ("GET", "ok ok ok ok ok ok ok ok", "ok ok ok ok"),
    # Analytics (/desk/analytics/): the dashboard for the district's roles and the ranked units'
    # handlers (operators have none); the monthly briefing for the district's leaders,
    # dispatchers and admins, a street office's own for its staff; repeat reporters only for roles that may reveal personal data;
    # 每月一题 topics managed by leaders and admins, noted by their owner unit (street JSL).
    "analytics:dashboard": ("GET", "login 403 ok ok ok ok ok ok", _),
    "analytics:dashboard_export": ("GET", "login 403 ok ok ok ok ok ok", _),
    "analytics:drilldown": ("GET", "login 403 ok ok ok ok ok ok", _),
    "analytics:drilldown_export": ("GET", "login 403 ok ok ok ok ok ok", _),
    "analytics:briefing": ("GET", "login 403 ok ok ok 403 ok 403", _),
    "analytics:hotspots": ("GET", "login ok ok ok ok ok ok ok", _),
    "analytics:hotspots_export": ("GET", "login ok ok ok ok ok ok ok", _),
    # A repeat reporter's cases open through a signed token, as each role may see them: another
    # unit's reporter, a forged or a made-up token give an empty list (see EMPTY_FOR_UNKNOWN).
    "analytics:reporter_cases": ("GET", "login ok ok 403 ok ok ok ok", "login ok ok ok"),
    "analytics:reporter_cases_export": ("GET", "login ok ok 403 ok ok ok ok", "login ok ok ok"),
    "analytics:topics": ("GET", "login ok ok ok ok ok ok ok", _),
    "analytics:topics_export": ("GET", "login ok ok ok ok ok ok ok", _),
    "analytics:topic_proposals_export": ("GET", "login ok ok ok ok ok ok ok", _),
    "analytics:topic_adopt": ("GET", "login 403 403 ok ok 403 403 403", _),
    "analytics:topic": ("GET", "login ok ok ok ok 404 ok ok", "login 404 404 404"),
    "analytics:topic_edit": ("POST", "login 403 403 ok ok 404 403 403", "login 404 404 404"),
    "analytics:topic_status": ("POST", "login 403 403 ok ok 404 403 403", "login 404 404 404"),
    "analytics:topic_note": ("POST", "login 403 403 ok ok 404 ok 403", "login 404 404 404"),
    "analytics:topic_link": ("POST", "login 403 403 ok ok 404 403 403", "login 404 404 404"),
    "analytics:topic_unlink": ("POST", "login 403 403 ok ok 404 403 403", "login 404 404 404"),
    "analytics:topic_refresh": ("POST", "login 403 403 ok ok 404 403 403", "login 404 404 404"),
    "analytics:topic_cases_export": ("GET", "login ok ok ok ok 404 ok ok", "login 404 404 404"),
    # The public board of the district's figures (no personal data).
    "board": ("GET", "ok ok ok ok ok ok ok ok", _),
    # Accounts and language.
    "login": ("GET", "ok ok ok ok ok ok ok ok", _),
    "logout": ("POST", "login login login login login login login login", _),
    "set_language": ("POST", "ok ok ok ok ok ok ok ok", _),
    # The API's schema and docs are public; its operations are swept from the schema below.
    "api-v1:openapi-json": ("GET", "ok ok ok ok ok ok ok ok", _),
    "api-v1:openapi-view": ("GET", "ok ok ok ok ok ok ok ok", _),
    "api-v1:api-root": ("GET", "404 404 404 404 404 404 404 404", _),
    # The API's operations are swept from its schema in test_api_sweep.py.
    # Open311 GeoReport v2: public reads by design (addresses masked); POST needs an api_key.
    "open311:discovery": ("GET", "ok ok ok ok ok ok ok ok", _),
    "open311:services": ("GET", "ok ok ok ok ok ok ok ok", _),
    "open311:service": ("GET", "ok ok ok ok ok ok ok ok", _),
    "open311:requests": ("GET", "ok ok ok ok ok ok ok ok", _),
    "open311:request": ("GET", "ok ok ok ok ok ok ok ok", "ok ok ok ok"),
    "open311:token": ("GET", "404 404 404 404 404 404 404 404", _),
}

#: Swept elsewhere: the REST API's operations from its schema and the admin site by rule
#: (test_api_sweep.py). No route serves the media folder (test_uploaded_files.py).
BY_RULE = ("admin:", "<unnamed /admin/")

# ---------------------------------------------------------------- coverage of the table


def test_every_url_name_is_in_the_table():
    missing = sorted(name for name in site_routes() if name not in SITE and not name.startswith(BY_RULE) and not name.startswith("api-v1:"))
    assert not missing, f"URL names without expected access in tests/security/test_url_sweep.py SITE: {missing} — add a row for each"
    stale = sorted(set(SITE) - set(site_routes()))
    assert not stale, f"rows for URL names that no longer exist: {stale}"


# ---------------------------------------------------------------- the sweep


def _leaks(response) -> list[str]:
    if getattr(response, "streaming", False):
        return []
    body = response.content
    if body[:2] == b"PK":  # an .xlsx (or .docx): look inside its parts
        import io
        import zipfile

        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            body = b"".join(archive.read(name) for name in archive.namelist() if name.endswith(".xml"))
    text = body.decode("utf-8", "replace")
    return [marker for marker in FOREIGN_MARKERS if marker in text]


def _site_request(world, name: str, method: str, scope: str, role: str):
    url = site_url(world, name, scope, role)
    client = world.clients[role]
    body = SITE_BODIES.get(name, lambda w, s: {})(world, scope)
    query = SITE_QUERIES.get(name, {})
    return url, isolated(lambda: client.post(url, body) if method == "POST" else client.get(url, query))


def _roles_to_ask(path: str, row: str) -> list[tuple[str, str]]:
    """(role, expected outcome) pairs to request: every role, or SAMPLE_ROLES for a page
    outside the workbench whose row is the same for every role."""
    pairs = list(zip(ROLES, row.split(), strict=True))
    if len(set(row.split())) == 1 and not path.startswith("/desk/"):
        return [(role, expected) for role, expected in pairs if role in SAMPLE_ROLES]
    return pairs


def _expected(row: str | None) -> list[str]:
    return row.split() if row else []


@pytest.mark.parametrize("name", sorted(SITE))
def test_site_url(db, world, name):
    method, own_row, foreign_row = SITE[name]
    if name not in PARAMS:
        assert foreign_row is None, f"{name}: a foreign column needs a parameter builder in routes.PARAMS"
    got, want = {}, {}
    for role, expected in _roles_to_ask(site_url(world, name, "own", "anon"), own_row):
        url, response = _site_request(world, name, method, "own", role)
        got[role], want[role] = outcome(response), expected
        if expected in REFUSED:
            assert not _leaks(response), (name, role, url)
    assert got == want, f"{name} as each role (own object): got {got}"

    if foreign_row is None:
        return
    got, want = {}, {}
    for role, expected in zip(FOREIGN_ROLES, _expected(foreign_row), strict=True):
        url, response = _site_request(world, name, method, "foreign", role)
        got[role], want[role] = outcome(response), expected
        leaks = _leaks(response)
        if name.startswith("open311:"):
            leaks = [m for m in leaks if m == FOREIGN_PHONE]  # GeoReport requests are public; the phone never is
        if expected in REFUSED or not name.startswith(("channels:survey", "channels:box", "open311:")):
            assert not leaks, (name, role, url, leaks)
    assert got == want, f"{name} as each role (another unit's object): got {got}"

    for scope in ("sequential", "guessed"):
        for role in PROBE_ROLES:
            url, response = _site_request(world, name, method, scope, role)
            allowed = REFUSED | ({"ok"} if name in EMPTY_FOR_UNKNOWN else set())
            assert outcome(response) in allowed, (name, scope, role, url, response.status_code)
            assert not _leaks(response)
