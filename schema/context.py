"""The per-request GraphQL context: who is asking, settings, and this request's dataloaders."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import HTTPConnection
from starlette.responses import Response
from strawberry.types import Info as StrawberryInfo

from commerce.payments import Payments
from core.errors import Unauthenticated
from core.pubsub import Broker, LocalBroker
from core.settings import Settings
from feed.recorder import SignalRecorder
from feed.snapshots import SnapshotStore, TableSnapshots
from schema.loaders import Loaders
from social.policy import Audience
from social.tokens import read_token


@dataclass
class Context:
    request: HTTPConnection
    settings: Settings
    viewer_id: int | None
    loaders: Loaders
    request_id: str = ""
    sql_counter: list[int] | None = field(default=None)
    broker: Broker = field(default_factory=LocalBroker)
    # The Stripe door; None when no STRIPE_API_KEY is configured.
    payments: Payments | None = None
    # Feed sessions (Redis or a table) and the deferred writer of impressions and opens.
    snapshots: SnapshotStore = field(default_factory=TableSnapshots)
    recorder: SignalRecorder = field(default_factory=SignalRecorder)
    # Set by the graphql-transport-ws handshake (connection_init payload).
    connection_params: dict[str, object] | None = None
    # The HTTP response being built (None over WebSocket): a refusal of the whole request sets its status.
    response: Response | None = None

    async def audience(self) -> Audience:
        """Whom this request shows things to (`social.policy`): built once per request, and again for
        each operation and event on a WebSocket connection."""
        return await self.loaders.audience()

    def require_viewer_id(self) -> int:
        """The signed-in user's id, or an UNAUTHENTICATED domain error."""
        if self.viewer_id is None:
            raise Unauthenticated()
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
    broker: Broker | None = None,
    payments: Payments | None = None,
    snapshots: SnapshotStore | None = None,
    recorder: SignalRecorder | None = None,
    long_lived: bool = False,
    response: Response | None = None,
) -> Context:
    """One context per HTTP request, or per WebSocket connection (`long_lived`): a connection's
    loaders batch but never cache, so an event delivered an hour later is not served stale data."""
    viewer_id = bearer_user_id(authorization, settings)
    return Context(
        request=request,
        settings=settings,
        viewer_id=viewer_id,
        loaders=Loaders(viewer_id=viewer_id, cache=not long_lived),
        request_id=request_id,
        sql_counter=sql_counter,
        broker=broker or LocalBroker(),
        payments=payments,
        snapshots=snapshots or TableSnapshots(),
        recorder=recorder or SignalRecorder(),
        response=response,
    )


def authenticate_connection(context: Context) -> bool:
    """Sign a WebSocket connection in from its connection_init payload.

    Accepts `{"Authorization": "Bearer <token>"}` (any case) or `{"token": "<token>"}`; no token is an
    anonymous connection. False when a token was given but is invalid or expired."""
    params = {str(k).lower(): v for k, v in (context.connection_params or {}).items()}
    raw = params.get("authorization") or (f"Bearer {params['token']}" if params.get("token") else None)
    if raw is None:
        return True
    viewer_id = bearer_user_id(str(raw), context.settings)
    if viewer_id is None:
        return False
    context.viewer_id = viewer_id
    context.loaders = Loaders(viewer_id=viewer_id, cache=False)
    return True
