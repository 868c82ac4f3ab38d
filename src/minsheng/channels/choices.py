from django.db import models
from django.utils.translation import gettext_lazy as _


class SurveyStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("收集中")
    CLOSED = "closed", _("已结束")


class TargetScope(models.TextChoices):
    DISTRICT = "district", _("全区")
    STREETS = "streets", _("指定街道")
    COMMUNITIES = "communities", _("指定社区")


class AnswerLimit(models.TextChoices):
    NONE = "none", _("不限次数")
    DEVICE = "device", _("每台设备限答一次")
    PHONE = "phone", _("每个手机号限答一次")


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("单选题")
    MULTIPLE = "multiple", _("多选题")
    TEXT = "text", _("填空题")
    RATING = "rating", _("评分题(1-5)")
    NUMBER = "number", _("数字题")
    DATE = "date", _("日期题")


CHOICE_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE)


class NoteSource(models.TextChoices):
    ONLINE = "online", _("网上意见箱")
    PAPER = "paper", _("纸质意见箱")


class NoteStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPEAL = "appeal", _("已转为诉求")
    NO_ACTION = "no_action", _("无需办理")
    SPAM = "spam", _("垃圾信息")
    ABUSE = "abuse", _("辱骂/违规内容")


class ForumKind(models.TextChoices):
    COMMUNITY = "community", _("群众座谈会")
    ENTERPRISE = "enterprise", _("企业座谈会")


class PlaceKind(models.TextChoices):
    HOUSEHOLD = "household", _("居民户")
    SHOP = "shop", _("商户")
    ENTERPRISE = "enterprise", _("企业")
    PUBLIC = "public", _("公共场所")
    OTHER = "other", _("其他")


class ImportStatus(models.TextChoices):
    VALIDATED = "validated", _("已校验")
    IMPORTING = "importing", _("导入中")
    DONE = "done", _("已完成")
    CANCELLED = "cancelled", _("已取消")


class ImportRowStatus(models.TextChoices):
    PENDING = "pending", _("待导入")
    INVALID = "invalid", _("有错误")
    CREATED = "created", _("已导入")
    DUPLICATE = "duplicate", _("重复，已跳过")
