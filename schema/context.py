"""The per-request GraphQL context: who is asking, settings, and this request's dataloaders."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from starlette.requests import HTTPConnection
from starlette.responses import Response
from strawberry.extensions import SchemaExtension
from strawberry.types import Info as StrawberryInfo

from commerce.payments import Payments
from core.clientip import UNKNOWN
from core.errors import RequestCode, RequestRefused, Unauthenticated
from core.persisted import PersistedQueries
from core.pubsub import Broker, LocalBroker
from core.ratelimit import RateLimiter
from core.settings import Settings
from feed.recorder import SignalRecorder
from feed.snapshots import SnapshotStore, TableSnapshots
from feed.trending import TrendingPool
from media.service import MediaServices
from safety.export import ExportServices
from schema.loaders import Loaders
from schema.timeouts import refusal_for
from social import policy
from social.policy import Audience
from social.sessions import session_user
from social.tokens import TokenClaims, read_claims


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
    # The trending pool kept for many feed sessions (None: each first page reads it itself).
    trending: TrendingPool | None = None
    # Set by the graphql-transport-ws handshake (connection_init payload).
    connection_params: dict[str, object] | None = None
    # The HTTP response being built (None over WebSocket): a refusal of the whole request sets its status.
    response: Response | None = None
    # Rate limits (none when absent) and the client's address they count anonymous requests under.
    rate_limiter: RateLimiter | None = None
    client_ip: str = UNKNOWN
    # The bearer token presented (None: none, an anonymous request); `viewer_id` and `session` are set only
    # once `authenticate` has found its session live, before any resolver runs.
    bearer: str | None = None
    session: TokenClaims | None = None
    long_lived: bool = False
    # Texts of persisted queries by hash, and the trusted documents (none: every text runs as sent).
    persisted_queries: PersistedQueries | None = None
    # Uploads, storage and processing (None: media are not configured, e.g. a bare test context).
    media: MediaServices | None = None
    # Data exports (storage, jobs, the link-signing key), made once with the app; None where media are not.
    exports: ExportServices | None = None

    async def audience(self) -> Audience:
        """Whom this request shows things to (`social.policy`): built once per request, and again for
        each operation and event on a WebSocket connection."""
        return await self.loaders.audience()

    def require_viewer_id(self) -> int:
        """The signed-in user's id, or an UNAUTHENTICATED domain error."""
        if self.viewer_id is None:
            raise Unauthenticated()
        return self.viewer_id

    def require_session(self) -> TokenClaims:
        """The live session of this request's token, or an UNAUTHENTICATED domain error."""
        if self.session is None or self.viewer_id is None:
            raise Unauthenticated()
        return self.session


Info = StrawberryInfo[Context, None]


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header ("" when the header names none); None when
    there is no bearer header (another scheme is not ours to judge)."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


def token_refused(context: Context) -> RequestRefused:
    """The refusal of a request whose token is malformed, forged, expired, signed out or whose user is gone
    (not told apart): HTTP 401, so a client drops the token and signs in again."""
    refusal = RequestRefused(
        RequestCode.UNAUTHENTICATED,
        "The bearer token is invalid, expired or signed out; sign in again.",
        http_status=401,
    )
    refusal.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return refusal


async def authenticate(context: Context) -> None:
    """Sign the request in from its bearer token, or refuse it (`token_refused`); no token: anonymous.

    The claims are checked first, so a malformed or forged token never reaches the database; then one
    statement finds the session live and reads the viewer's row, which primes the request's user loader,
    and their blocks, mutes and filters, which make the request's audience."""
    if context.bearer is None:
        context.viewer_id, context.session = None, None
        return
    claims = read_claims(context.bearer, secret_key=context.settings.secret_key) if context.bearer else None
    live = await session_user(claims) if claims is not None else None
    if claims is None or live is None:
        context.viewer_id, context.session = None, None
        raise token_refused(context)
    user, safety = live
    context.viewer_id, context.session = user.id, claims
    context.loaders = Loaders(viewer_id=user.id, cache=not context.long_lived)
    context.loaders.user_by_id.prime(user.id, user)
    if not context.long_lived:
        # On a connection, events come later, after blocks may have changed: each reads its own audience.
        context.loaders.prime_audience(policy.audience_of(user, safety))


class Authentication(SchemaExtension):
    """Runs `authenticate` before anything else of an operation (parsing included), over HTTP and for each
    operation on a WebSocket, so no resolver ever sees a token that is not live."""

    async def on_operation(self) -> AsyncIterator[None]:  # type: ignore[override]
        context = self.execution_context.context
        if isinstance(context, Context):
            try:
                try:
                    await authenticate(context)
                except Exception as exc:
                    # A connection lost or a statement stopped while checking the session: a refusal
                    # (503), not an uncoded error.
                    refusal = refusal_for(exc) if not isinstance(exc, RequestRefused) else None
                    if refusal is None:
                        raise
                    raise refusal from exc
            except RequestRefused as refusal:
                # Raised before execution, so ExecutionOutcome never sees it: set the status here (401 for
                # a dead token, 503 when the database cannot be reached to check it).
                refusal.decide(context.response)
                raise
        yield


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
    loaders batch but never cache, so an event delivered an hour later is not served stale data.
    It starts anonymous: the `Authentication` extension signs it in from `authorization`."""
    return Context(
        request=request,
        settings=settings,
        viewer_id=None,
        loaders=Loaders(viewer_id=None, cache=not long_lived),
        request_id=request_id,
        sql_counter=sql_counter,
        broker=broker or LocalBroker(),
        payments=payments,
        snapshots=snapshots or TableSnapshots(),
        recorder=recorder or SignalRecorder(),
        response=response,
        bearer=bearer_token(authorization),
        long_lived=long_lived,
    )


async def authenticate_connection(context: Context) -> bool:
    """Sign a WebSocket connection in from its connection_init payload.

    Accepts `{"Authorization": "Bearer <token>"}` (any case) or `{"token": "<token>"}`; no token is an
    anonymous connection. False when a token was given but is not live (the connection is then closed);
    each operation on the connection checks it again, so signing out also ends later subscriptions."""
    params = {str(k).lower(): v for k, v in (context.connection_params or {}).items()}
    raw = params.get("authorization") or (f"Bearer {params['token']}" if params.get("token") else None)
    context.bearer = bearer_token(str(raw)) if raw is not None else None
    if raw is not None and context.bearer is None:
        return False  # a token under another scheme: not one we can accept
    try:
        await authenticate(context)
    except RequestRefused:
        return False
    return True
