"""每月一题: a top problem of the month that a leader adopts as a topic to follow up — the
place, the category, the unit that owns it, the plan, its progress and the cases behind it.
Writes go through analytics/services.py."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.cases.models import Case, Category
from minsheng.core.choices import Role, UnitKind
from minsheng.core.models import Unit


class TopicStatus(models.TextChoices):
    ADOPTED = "adopted", _("已采纳")
    IN_PROGRESS = "in_progress", _("推进中")
    DONE = "done", _("已完成")


#: The status changes a leader may make: forward, and back from done when the problem returns.
TOPIC_TRANSITIONS = {
    TopicStatus.ADOPTED: (TopicStatus.IN_PROGRESS, TopicStatus.DONE),
    TopicStatus.IN_PROGRESS: (TopicStatus.DONE,),
    TopicStatus.DONE: (TopicStatus.IN_PROGRESS,),
}


class TopicQuerySet(models.QuerySet):
    def visible_to(self, user) -> "TopicQuerySet":
        """Topics `user` may read: the district's roles see all; a street's leader or a
        street office sees the topics in its street; a community those at its place; any
        handling unit the topics it owns."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser or user.role in (Role.ADMIN, Role.DISPATCHER, Role.OPERATOR):
            return self
        unit = user.unit
        if user.role == Role.LEADER and (unit is None or unit.kind == UnitKind.DISTRICT):
            return self
        if user.role not in (Role.LEADER, Role.HANDLER) or unit is None:
            return self.none()
        if unit.kind == UnitKind.STREET:
            return self.filter(Q(street=unit) | Q(owner_unit=unit))
        if unit.kind == UnitKind.COMMUNITY:
            return self.filter(Q(community=unit) | Q(owner_unit=unit))
        return self.filter(owner_unit=unit)


class Topic(models.Model):
    """每月一题: one problem (a subcategory at a place) of one month, adopted for follow-up."""

    title = models.CharField(_("题目"), max_length=120)
    month = models.DateField(_("月份"), help_text="The first day of the month the problem was proposed for.")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+", verbose_name=_("问题类别"))
    street = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("街道"))
    community = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("社区"))
    # The place the problem is about, one column for the uniqueness rule: the community, or
    # the street office when the community is not known.
    place = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("地点"))
    owner_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="topics", verbose_name=_("责任单位"))
    plan = models.TextField(_("跟进计划"))
    status = models.CharField(_("状态"), max_length=16, choices=TopicStatus.choices, default=TopicStatus.ADOPTED, db_index=True)
    proposed_count = models.PositiveIntegerField(_("当月诉求量"), default=0)
    previous_count = models.PositiveIntegerField(_("上月诉求量"), default=0)
    adopted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("采纳人"))
    adopted_at = models.DateTimeField(_("采纳时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    cases = models.ManyToManyField(Case, through="TopicCase", related_name="topics")

    objects = TopicQuerySet.as_manager()

    class Meta:
        verbose_name = _("每月一题")
        verbose_name_plural = _("每月一题")
        ordering = ["-month", "-adopted_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["month", "category", "place"], name="topic_one_per_problem_month"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.title}"


class TopicCase(models.Model):
    """A case linked to a topic: by the problem's filter at adoption (or a later refresh) or
    by hand. Unlinking by hand keeps the row with `unlinked_at`, so a refresh does not bring
    the case back."""

    class Source(models.TextChoices):
        AUTO = "auto", _("自动关联")
        MANUAL = "manual", _("手工关联")

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="links")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="topic_links")
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.AUTO)
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    linked_at = models.DateTimeField(default=timezone.now)
    unlinked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("关联案件")
        verbose_name_plural = _("关联案件")
        constraints = [models.UniqueConstraint(fields=["topic", "case"], name="topic_case_unique")]
        indexes = [models.Index(fields=["topic", "unlinked_at"], name="topic_case_active_idx")]


class TopicNote(models.Model):
    """The topic's progress log: notes from the owner unit or a leader, and every status
    change and hand-made link (written by the services)."""

    class Kind(models.TextChoices):
        NOTE = "note", _("进展")
        STATUS = "status", _("状态变更")
        LINK = "link", _("关联案件")
        EDIT = "edit", _("修改")

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.NOTE)
    text = models.TextField(_("内容"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    author_unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("进展记录")
        verbose_name_plural = _("进展记录")
        ordering = ["at", "id"]
