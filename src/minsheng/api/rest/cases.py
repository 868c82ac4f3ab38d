"""Staff endpoints (token): the cases the token's owner may see, and every staff action of the
case engine as POST /cases/{id}/actions/{action}. Scoping and permissions are the engine's:
a case the owner may not see is not found; an action the engine refuses is not allowed."""

from ninja import Path, Query, Router, Schema

from minsheng.cases.errors import ActionNotAllowed, StaleCase
from minsheng.cases.models import Case
from minsheng.cases.services import allowed_actions, refusal
from minsheng.cases.workflow import TRANSITIONS
from minsheng.core.protected_media import stored_file_response

from ..errors import NotFound
from ..selectors import case_for_api, case_page, handling_units, subcategories
from . import render
from .actions import ACTIONS
from .schemas import CaseDetail, CaseFilters, CasePage, CategoryOut, ErrorOut, MeOut, UnitOut

router = Router(tags=["cases"])

MAX_ID = 2**63 - 1
_READ_ERRORS = frozenset({401, 404, 422})
_ACTION_ERRORS = frozenset({401, 403, 404, 409, 422})


class ActionOut(Schema):
    case_id: int
    tracking_code: str
    action: str
    state: str
    state_label: str
    version: int
    allowed_actions: list[str]


@router.get("/me", response={200: MeOut, 401: ErrorOut}, tags=["meta"], summary="Who the token acts as")
def me(request):
    user = request.auth
    return {"username": user.username, "name": user.display_name, "role": "admin" if user.is_superuser else user.role, "unit": render.unit(user.unit)}


@router.get("/units", response={200: list[UnitOut], 401: ErrorOut}, tags=["meta"], summary="Handling units")
def units(request):
    """Units a case can be dispatched to, by key (street:JSL, community:JSL03, dept:CGJ)."""
    return [render.unit(u) for u in handling_units()]


@router.get("/categories", response={200: list[CategoryOut], 401: ErrorOut}, tags=["meta"], summary="Subcategories")
def categories(request):
    return [render.category(c) for c in subcategories()]


@router.get("/cases", response={200: CasePage, frozenset({401, 422}): ErrorOut}, summary="List cases")
def case_list(request, filters: Query[CaseFilters]):
    """The cases the token's owner may see, newest first, with the workbench's filters.
    Follow `next_cursor` for the next page."""
    f = filters
    search = {
        "q": f.q, "state": f.state or "", "category": f.category, "street": f.street, "unit": f.unit,
        "channel": f.channel or "", "urgency": f.urgency or "", "flag": f.flag or "", "date_from": f.date_from, "date_to": f.date_to,
    }
    page = case_page(user=request.auth, filters=search, queue=f.queue or "", cursor=f.cursor, limit=f.limit)
    return {"items": [render.case_item(c) for c in page.items], "next_cursor": page.next_cursor}


@router.get("/cases/{case_id}", response={200: CaseDetail, _READ_ERRORS: ErrorOut}, summary="A case with its timeline")
def case_get(request, case_id: int = Path(..., ge=1, le=MAX_ID)):
    case = case_for_api(user=request.auth, pk=case_id)
    return render.case_detail(case, user=request.auth, request=request)


@router.get(
    "/cases/{case_id}/attachments/{attachment_id}",
    response={_READ_ERRORS: ErrorOut},
    summary="An attachment's file",
    openapi_extra={"responses": {"200": {"description": "The file (a photo, or a document as a download)",
                                          "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}}}},
)
def case_attachment(request, case_id: int = Path(..., ge=1, le=MAX_ID), attachment_id: int = Path(..., ge=1, le=MAX_ID)):
    """The file of one of the case's attachments (the `url` of `attachments` in a case): for
    whoever may see the case, as on its page; another case's attachment is not found."""
    case = case_for_api(user=request.auth, pk=case_id)
    attachment = case.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound("没有这个附件，或您无权查看。")
    return stored_file_response(attachment)


def _register(action: str) -> None:
    spec = ACTIONS[action]
    transition = TRANSITIONS[action]

    def act(request, payload: spec.schema, case_id: int = Path(..., ge=1, le=MAX_ID)):
        user = request.auth
        case = case_for_api(user=user, pk=case_id)
        # The same order of checks as the workbench: a stale view, then the permission,
        # then the input (resolved inside perform), then the engine's own checks.
        if payload.expected_version != case.version:
            raise StaleCase()
        if why := refusal(user, action, case):
            raise ActionNotAllowed(why)
        spec.perform(case=case, user=user, data=payload)
        fresh = Case.objects.get(pk=case_id)
        return {
            "case_id": fresh.pk, "tracking_code": fresh.tracking_code, "action": action, "state": fresh.state,
            "state_label": str(fresh.get_state_display()), "version": fresh.version,
            "allowed_actions": allowed_actions(case=fresh, actor=user),
        }

    act.__name__ = f"case_{action}"
    router.post(
        f"/cases/{{case_id}}/actions/{action}",
        response={200: ActionOut, _ACTION_ERRORS: ErrorOut},
        operation_id=f"case_{action}",
        summary=f"{action}: {transition.label}",
        description=_describe(action),
        tags=["case actions"],
    )(act)


def _describe(action: str) -> str:
    t = TRANSITIONS[action]
    sources = ", ".join(sorted(t.sources))
    roles = ", ".join(sorted(str(r) for r in t.roles))
    target = f"moves the case to `{t.target}`" if t.target else "leaves the state as it is (a side action)"
    bound = " A handler may take it only for a case its unit handles." if t.unit_bound else ""
    return f"From {sources}; {target}. Roles: {roles}.{bound} Errors: 403 not_allowed, 404 not_found, 409 stale, 422 invalid."


for _action in ACTIONS:
    _register(_action)
