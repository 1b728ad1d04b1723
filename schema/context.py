"""The per-request GraphQL context: who is asking, settings, and this request's dataloaders."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import HTTPConnection
from strawberry.types import Info as StrawberryInfo

from api.settings import Settings
from core.errors import unauthenticated
from schema.loaders import Loaders
from social.tokens import read_token


@dataclass
class Context:
    request: HTTPConnection
    settings: Settings
    viewer_id: int | None
    loaders: Loaders
    request_id: str = ""
    sql_counter: list[int] | None = field(default=None)

    def require_viewer_id(self) -> int:
        """The signed-in user's id, or an UNAUTHENTICATED domain error."""
        if self.viewer_id is None:
            raise unauthenticated()
        return self.viewer_id


Info = StrawberryInfo[Context, None]


def bearer_user_id(authorization: str | None, settings: Settings) -> int | None:
    """User id from an `Authorization: Bearer <token>` header; None when absent or invalid."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return read_token(token.strip(), secret_key=settings.secret_key)


def build_context(
    request: HTTPConnection,
    settings: Settings,
    *,
    authorization: str | None = None,
    request_id: str = "",
    sql_counter: list[int] | None = None,
) -> Context:
    """One context per HTTP request (or per WebSocket operation): fresh loaders every time."""
    viewer_id = bearer_user_id(authorization, settings)
    return Context(
        request=request,
        settings=settings,
        viewer_id=viewer_id,
        loaders=Loaders(viewer_id=viewer_id),
        request_id=request_id,
        sql_counter=sql_counter,
    )
