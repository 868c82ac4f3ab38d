"""Token authentication: `Authorization: Bearer <key>`; the call acts as the token's owner."""

from __future__ import annotations

from ninja.security import HttpBearer

from ..services.tokens import token_authenticate


class TokenAuth(HttpBearer):
    openapi_description = "An API token made with `minsheng token create USERNAME`."

    def authenticate(self, request, token: str):
        api_token = token_authenticate(token)
        if api_token is None:
            return None
        request.api_token = api_token
        request.user = api_token.user
        return api_token.user
