"""The open interfaces: the REST API (/api/v1/), Open311 GeoReport v2 (/open311/v2/) and
signed outgoing webhooks. A face over the same services the screens use: nothing here
decides what may happen to a case."""
