from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseKind(models.TextChoices):
    APPEAL = "appeal", _("民生诉求")
    ENTERPRISE = "enterprise", _("企业诉求")
    ASSIST = "assist", _("帮办代办")
    VETERAN = "veteran", _("退役军人诉求")
    INSPECTION = "inspection", _("人大视察建议")
    MILESTONE = "milestone", _("实事项目节点")


class CaseState(models.TextChoices):
    SUBMITTED = "submitted", _("待受理")
    ACCEPTED = "accepted", _("待派单")
    DISPATCHED = "dispatched", _("待签收")
    IN_PROGRESS = "in_progress", _("办理中")
    REPLIED = "replied", _("待审核")
    AWAITING_FEEDBACK = "awaiting_feedback", _("待评价")
    CLOSED = "closed", _("已办结")
    REJECTED = "rejected", _("已退回(无效)")
    MERGED = "merged", _("已并案")


OPEN_STATES = (CaseState.SUBMITTED, CaseState.ACCEPTED, CaseState.DISPATCHED, CaseState.IN_PROGRESS, CaseState.REPLIED, CaseState.AWAITING_FEEDBACK)
HANDLING_STATES = (CaseState.DISPATCHED, CaseState.IN_PROGRESS)
FINAL_STATES = (CaseState.CLOSED, CaseState.REJECTED, CaseState.MERGED)


class Channel(models.TextChoices):
    HOTLINE = "hotline", _("热线电话")
    WEB = "web", _("网站/H5")
    SUGGESTION_BOX = "suggestion_box", _("意见箱")
    FORUM = "forum", _("座谈会")
    VISIT = "visit", _("实地走访")
    SURVEY = "survey", _("问卷调查")
    ENTERPRISE = "enterprise", _("企业服务")
    IMPORT = "import", _("批量导入")
    API = "api", _("接口")


class Urgency(models.TextChoices):
    URGENT = "urgent", _("紧急")
    NORMAL = "normal", _("一般")
    COMPLEX = "complex", _("疑难复杂")


class Routing(models.TextChoices):
    TERRITORIAL = "territorial", _("属地(街道)")
    DEPARTMENT = "department", _("部门")


class Feedback(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASIC = "basic", _("基本满意")
    UNSATISFIED = "unsatisfied", _("不满意")


class DueFlag(models.TextChoices):
    NONE = "", _("正常")
    YELLOW = "yellow", _("黄牌(临期)")
    RED = "red", _("红牌(超期)")


class AssignmentRole(models.TextChoices):
    MAIN = "main", _("主办")
    CO = "co", _("协办")


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已同意")
    REFUSED = "refused", _("未同意")
