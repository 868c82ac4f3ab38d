"""The case engine's tables. Everything someone must act on by a deadline is a `Case`;
every change of a case is a `CaseEvent`, and the rates are computed from those events."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.core.choices import Role, UnitKind
from minsheng.core.crypto import mask_address, mask_id_number, mask_name, mask_phone
from minsheng.core.fields import BlindIndexField, EncryptedTextField, Last4Field, derived_update_fields
from minsheng.core.models import Unit

from .choices import (
    AssignmentRole,
    CaseKind,
    CaseState,
    Channel,
    DueFlag,
    ExtensionStatus,
    Feedback,
    Routing,
    Urgency,
)


class Category(models.Model):
    """A category (诉求大类) or, with a parent, a subcategory (小类) of the taxonomy.
    Subcategories carry the routing rule: territorial ones go to the street office of the
    location, department ones to `department`."""

    code = models.CharField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name=_("大类"))
    routing = models.CharField(_("派单规则"), max_length=16, choices=Routing.choices, blank=True)
    department = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("主管部门"))
    note = models.CharField(_("说明"), max_length=300, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("诉求分类")
        verbose_name_plural = _("诉求分类")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return f"{self.parent.name}/{self.name}" if self.parent_id else self.name

    @property
    def is_subcategory(self) -> bool:
        return self.parent_id is not None


class DeadlinePolicy(models.Model):
    """How long a unit has to acknowledge, contact the resident and resolve, by urgency.
    Durations are written as in the taxonomy file: '4 hours working', '7 days working',
    '24 hours calendar'."""

    urgency = models.CharField(_("紧急程度"), max_length=16, choices=Urgency.choices, unique=True)
    acknowledge_within = models.CharField(_("签收时限"), max_length=40)
    contact_within = models.CharField(_("联系时限"), max_length=40)
    resolve_within = models.CharField(_("办结时限"), max_length=40)
    note = models.CharField(_("说明"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("办理时限")
        verbose_name_plural = _("办理时限")

    def __str__(self) -> str:
        return self.get_urgency_display()


class CaseQuerySet(models.QuerySet):
    def open(self):
        from .choices import OPEN_STATES

        return self.filter(state__in=OPEN_STATES)

    def visible_to(self, user) -> "CaseQuerySet":
        """The cases `user` may see. Every list, detail, export and API goes through here.

        District-level roles see everything; a leader tied to a street sees that street; a
        handler sees what is assigned to its unit plus, for a street office or a community,
        what is located in its territory.
        """
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser or user.role in (Role.ADMIN, Role.DISPATCHER, Role.OPERATOR):
            return self
        unit = user.unit
        if user.role == Role.LEADER:
            if unit is None or unit.kind in (UnitKind.DISTRICT,):
                return self
            return self._territory_or_assigned(unit)
        if user.role == Role.HANDLER and unit is not None:
            return self._territory_or_assigned(unit)
        return self.none()

    def _territory_or_assigned(self, unit: Unit) -> "CaseQuerySet":
        assigned = Exists(CaseAssignment.objects.filter(case=OuterRef("pk"), unit=unit))
        if unit.kind == UnitKind.STREET:
            return self.filter(Q(street=unit) | assigned)
        if unit.kind == UnitKind.COMMUNITY:
            return self.filter(Q(community=unit) | assigned)
        return self.filter(assigned)


class Case(models.Model):
    """Something a unit must act on by a deadline: a resident's appeal (民生诉求), an
    enterprise appeal, an assisted-service request, a veteran's request, an inspection
    recommendation, a project milestone. One lifecycle for all of them (see workflow.py)."""

    kind = models.CharField(_("类型"), max_length=16, choices=CaseKind.choices, default=CaseKind.APPEAL)
    tracking_code = models.CharField(_("查询码"), max_length=16, unique=True)
    channel = models.CharField(_("渠道"), max_length=20, choices=Channel.choices, default=Channel.WEB)
    state = models.CharField(_("状态"), max_length=20, choices=CaseState.choices, default=CaseState.SUBMITTED, db_index=True)
    version = models.PositiveIntegerField(default=1, help_text="Bumped by every transition: optimistic locking.")

    text = models.TextField(_("诉求内容"))
    # Personal data (PIPL): encrypted at rest, masked on every screen unless shown on purpose
    # (audited), erased by `minsheng purge` after the retention period. See core/crypto.py.
    address = EncryptedTextField(_("地址"), max_length=300, blank=True)
    reporter_name = EncryptedTextField(_("姓名"), max_length=100, blank=True)
    reporter_phone = EncryptedTextField(_("联系电话"), max_length=20, blank=True)
    reporter_phone_index = BlindIndexField(source="reporter_phone", help_text="Keyed hash of the phone: finds a caller's cases.")
    reporter_phone_last4 = Last4Field(source="reporter_phone", help_text="Checked with the tracking code on the resident's pages.")
    reporter_id_number = EncryptedTextField(_("身份证号"), max_length=18, blank=True)
    personal_data_erased_at = models.DateTimeField(_("个人信息删除时间"), null=True, blank=True)
    is_anonymous = models.BooleanField(_("匿名"), default=False)

    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, related_name="cases", verbose_name=_("分类"))
    urgency = models.CharField(_("紧急程度"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    street = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("街道"))
    community = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("社区"))
    main_unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="main_cases", verbose_name=_("承办单位"))

    submitted_at = models.DateTimeField(_("反映时间"), default=timezone.now, db_index=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(_("派单时间"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    contacted_at = models.DateTimeField(_("联系时间"), null=True, blank=True)
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    acknowledge_due_at = models.DateTimeField(_("签收期限"), null=True, blank=True, db_index=True)
    contact_due_at = models.DateTimeField(_("联系期限"), null=True, blank=True)
    resolve_due_at = models.DateTimeField(_("办结期限"), null=True, blank=True, db_index=True)
    due_flag = models.CharField(_("预警"), max_length=8, choices=DueFlag.choices, default=DueFlag.NONE, blank=True)

    reply_text = models.TextField(_("答复内容"), blank=True)
    feedback = models.CharField(_("评价"), max_length=16, choices=Feedback.choices, blank=True)
    feedback_resolved = models.BooleanField(_("群众认为已解决"), null=True, blank=True)
    feedback_comment = models.TextField(_("评价意见"), blank=True)
    feedback_at = models.DateTimeField(null=True, blank=True)
    no_feedback = models.BooleanField(_("未评价自动办结"), default=False)
    supervision_level = models.PositiveSmallIntegerField(_("督办级别"), default=0)
    rehandle_count = models.PositiveSmallIntegerField(_("重办次数"), default=0)
    reporter_count = models.PositiveIntegerField(_("反映人数"), default=1)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_cases", verbose_name=_("并入"))

    idempotency_key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    dispatch_meta = models.JSONField(default=dict, blank=True, help_text="Suggestions and model version offered at intake.")
    source_type = models.CharField(max_length=40, blank=True, help_text="The channel record this came from (survey answer, forum issue, ...).")
    source_id = models.CharField(max_length=40, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("案件")
        verbose_name_plural = _("案件")
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["main_unit", "state"], name="case_unit_state_idx"),
            models.Index(fields=["street", "submitted_at"], name="case_street_time_idx"),
            models.Index(fields=["community", "submitted_at"], name="case_community_time_idx"),
            models.Index(fields=["state", "resolve_due_at"], name="case_state_due_idx"),
            # The dashboard's intake by channel and category for a period, from the index alone.
            models.Index(fields=["submitted_at", "channel", "category"], name="case_intake_idx"),
            # Open cases with a red flag (当前超期未办结): a few hundred among a million.
            models.Index(fields=["due_flag", "state"], name="case_flag_state_idx"),
            # The cases waiting for a dispatcher (待受理/待派单), newest or oldest first, a page
            # at a time: read in order from this index alone. Without it the plan depends on
            # the statistics and the mix: a bitmap scan and sort of every waiting case (nearly
            # the whole table during an intake burst), or a walk down the submission-time
            # index past every case no longer waiting (oldest first, nearly all of them).
            models.Index(
                fields=["submitted_at", "id"], condition=Q(state__in=[CaseState.SUBMITTED, CaseState.ACCEPTED]),
                name="case_to_dispatch_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tracking_code} {self.summary}"

    @property
    def summary(self) -> str:
        text = " ".join(self.text.split())
        return text if len(text) <= 40 else text[:40] + "…"

    def save(self, *args, update_fields=None, **kwargs):
        super().save(*args, update_fields=derived_update_fields(self, update_fields), **kwargs)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.reporter_phone)

    @property
    def name_masked(self) -> str:
        return mask_name(self.reporter_name)

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.reporter_id_number)

    @property
    def address_masked(self) -> str:
        return mask_address(self.address)

    @property
    def phone_last4(self) -> str:
        return self.reporter_phone[-4:] if self.reporter_phone else ""

    @property
    def is_open(self) -> bool:
        from .choices import OPEN_STATES

        return self.state in OPEN_STATES


class CaseAssignment(models.Model):
    """A unit's part in a case: the main handling unit (主办) or a co-handling unit (协办).
    A returned or redispatched assignment stays as history with `active=False`."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assignments")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="assignments")
    role = models.CharField(max_length=8, choices=AssignmentRole.choices, default=AssignmentRole.MAIN)
    active = models.BooleanField(default=True)
    assigned_at = models.DateTimeField(default=timezone.now)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("承办记录")
        verbose_name_plural = _("承办记录")
        indexes = [models.Index(fields=["unit", "case"], name="assignment_unit_case_idx")]


class CaseEvent(models.Model):
    """One thing that happened to a case: a transition (from → to) or a side action (contact,
    note, extension, supervision, flag). Append-only; the timeline, the outbox and every
    rate read it."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=32, db_index=True)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_kind = models.CharField(max_length=16, default="staff", help_text="staff, resident or system")
    actor_unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="The handling unit the event concerns.")
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    is_public = models.BooleanField(default=False, help_text="Shown on the resident's tracking page.")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    # What an acknowledgement, contact or reply was measured against, recorded when it is
    # appended from the case's earlier events (cases/episodes.py): its dispatch episode, the
    # deadline it was held to and whether it is the episode's first of its kind. Null on
    # every other event.
    episode_at = models.DateTimeField(null=True, blank=True, help_text="The dispatch time of the episode the event belongs to.")
    episode_unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+",
        help_text="The unit the episode's dispatch went to.",
    )
    due_at = models.DateTimeField(null=True, blank=True, help_text="The deadline the event was held to.")
    first_in_episode = models.BooleanField(null=True, blank=True)
    responded = models.BooleanField(
        null=True, blank=True, help_text="Set on the event that completed a timely response (acknowledged and contacted on time).",
    )
    # The verdict of a judged event, copied from `data` when it is appended
    # (cases/episodes.py::judged_outcome): a rating, an extension decision, a flag's colour.
    outcome = models.CharField(max_length=16, null=True, blank=True)
    resolved = models.BooleanField(null=True, blank=True, help_text="The resident's answer: was it resolved?")

    class Meta:
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")
        ordering = ["at", "id"]
        indexes = [
            # The analytics read a period's events of given actions by unit and case
            # (analytics/selectors/rates.py); with those columns and the id in the index,
            # those reads never visit the table's wide rows.
            # The replies' deadline and episode facts ride along, so the on-time and
            # handling-time figures are read from the index too.
            models.Index(
                fields=["action", "at", "unit", "case", "id", "due_at", "first_in_episode", "episode_at", "outcome", "resolved"],
                name="event_action_time_measure_idx",
            ),
            # Acknowledgements and contacts by the time of their episode's dispatch: the
            # response figures of a period's dispatches, one range read.
            models.Index(
                fields=["action", "episode_at", "episode_unit", "case", "first_in_episode", "at", "due_at"],
                name="event_episode_response_idx",
            ),
            # The dispatches answered in time, by dispatch time: the response figure's
            # drill-down list, newest first, without pairing anything.
            models.Index(fields=["episode_at", "episode_unit", "case"], condition=Q(responded=True), name="event_responded_idx"),
            # A unit's events of one action in a period (a street's drill-down lists): one
            # range per unit instead of the whole district's period filtered by unit.
            models.Index(fields=["action", "unit", "at"], name="event_action_unit_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} {self.from_state}->{self.to_state}"


class ExtensionRequest(models.Model):
    """A handling unit's request for more time (延期), decided by the command centre."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="extensions")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    working_days = models.PositiveSmallIntegerField(_("延期工作日"))
    reason = models.TextField(_("延期理由"))
    status = models.CharField(max_length=16, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(status="pending"), name="one_pending_extension_per_case"),
        ]


def attachment_path(instance: "Attachment", filename: str) -> str:
    return f"cases/{instance.case_id}/{timezone.now():%Y%m}/{instance.stored_name}"


class Attachment(models.Model):
    """A photo or document on a case. Uploaded images are re-encoded (metadata dropped)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path)
    stored_name = models.CharField(max_length=80)
    content_type = models.CharField(max_length=80)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    is_public = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")


class CoReporter(models.Model):
    """Another resident who reported the same problem and joined the case (多人同诉). Name and
    phone are personal data, kept as the case's reporter's are."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="co_reporters")
    name = EncryptedTextField(max_length=100, blank=True)
    phone = EncryptedTextField(max_length=20, blank=True)
    phone_index = BlindIndexField(source="phone")
    phone_last4 = Last4Field(source="phone")
    text = models.TextField(blank=True)
    joined_at = models.DateTimeField(default=timezone.now)

    def save(self, *args, update_fields=None, **kwargs):
        super().save(*args, update_fields=derived_update_fields(self, update_fields), **kwargs)

    @property
    def name_masked(self) -> str:
        return mask_name(self.name)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    class Meta:
        verbose_name = _("共同反映人")
        verbose_name_plural = _("共同反映人")
