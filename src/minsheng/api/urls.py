"""URLs of the open interfaces: `rest_urls` under /api/v1/, `open311_urls` under /open311/v2/."""

from django.urls import re_path

from .open311 import views as open311
from .rest.api import api

FORMAT = r"\.(?P<fmt>json|xml)$"

rest_urls = api.urls

open311_urls = (
    [
        re_path(r"^discovery" + FORMAT, open311.discovery, name="discovery"),
        re_path(r"^services" + FORMAT, open311.services, name="services"),
        re_path(r"^services/(?P<code>[^/]+?)" + FORMAT, open311.service_definition, name="service"),
        re_path(r"^requests" + FORMAT, open311.requests_, name="requests"),
        re_path(r"^requests/(?P<service_request_id>[^/]+?)" + FORMAT, open311.request_detail, name="request"),
        re_path(r"^tokens/(?P<token>[^/]+?)" + FORMAT, open311.token_detail, name="token"),
    ],
    "open311",
)
