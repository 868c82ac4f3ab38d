from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitKind(models.TextChoices):
    DISTRICT = "district", _("区")
    STREET = "street", _("街道办事处")
    COMMUNITY = "community", _("社区/村")
    DEPARTMENT = "dept", _("区直部门/公司")


class Role(models.TextChoices):
    ADMIN = "admin", _("系统管理员")
    OPERATOR = "operator", _("话务员/受理员")
    DISPATCHER = "dispatcher", _("派单员")
    HANDLER = "handler", _("承办人")
    LEADER = "leader", _("领导")
