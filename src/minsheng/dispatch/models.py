"""Records of the dispatch models the district has trained and used."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DispatchModel(models.Model):
    """A trained dispatch model (分拨模型): where it is stored, what it learnt from, and how
    well it did on a held-out slice. Exactly one is active; the engine serves it."""

    version = models.CharField(_("版本"), max_length=64, unique=True)
    path = models.CharField(max_length=500)
    created_at = models.DateTimeField(_("训练时间"), default=timezone.now)
    corpus_items = models.PositiveIntegerField(_("语料条数"), default=0)
    confirmed_items = models.PositiveIntegerField(_("派单员确认条数"), default=0)
    heldout = models.JSONField(_("留出集评估"), default=dict, blank=True)
    active = models.BooleanField(_("使用中"), default=False)

    class Meta:
        verbose_name = _("分拨模型")
        verbose_name_plural = _("分拨模型")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["active"], condition=models.Q(active=True), name="one_active_dispatch_model")]

    def __str__(self) -> str:
        return self.version
