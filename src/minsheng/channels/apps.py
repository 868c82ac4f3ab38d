from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConfig(AppConfig):
    """The listening channels (问计于民、问需于民): surveys, suggestion boxes, forums, field
    visits and bulk import. Each keeps its own records; whatever is raised there becomes an
    appeal in the case engine, with its channel and source record."""

    name = "minsheng.channels"
    label = "channels"
    verbose_name = _("听取民意渠道")

    def ready(self):
        # The engine's retention purge and erasure requests reach the channels' records
        # through this registration (the engine never imports a channel).
        from minsheng.cases.privacy import personal_data_holder_register

        from .privacy import ChannelRecords

        personal_data_holder_register("channels", ChannelRecords())
