"""The GraphQL endpoint: Strawberry's ASGI view with Vermilion's context and response shape."""

from __future__ import annotations

import re
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.subscriptions import (
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.types import ExecutionResult
from strawberry.types.unset import UnsetType

from api import access_log, sqlcount
from api.graphiql import graphiql_html
from api.logs import current_request_id
from commerce.payments import Payments
from core.clientip import client_address, parse_networks
from core.persisted import PersistedQueries
from core.pubsub import Broker
from core.ratelimit import RateLimiter
from core.settings import Settings
from feed.recorder import SignalRecorder
from feed.snapshots import SnapshotStore, TableSnapshots
from feed.trending import TrendingPool
from media.service import MediaServices
from safety.export import ExportServices
from schema.context import Context, authenticate_connection, build_context
from schema.limits import code_missing


class CodedTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws whose `error` messages carry `extensions.code` like every other error.

    A subscription refused before it runs (a syntax or validation error) is answered by Strawberry from
    the first result of `schema.subscribe`, before `schema.limits.ErrorCodes` sees the operation end; the
    codes are added here instead. The hook is Strawberry's own (private) step for exactly those errors:
    tests/test_js_clients.py fails if an upgrade stops calling it."""

    async def _handle_pre_execution_error(self, operation: Any, result: Any) -> None:
        code_missing(result.errors or ())
        await super()._handle_pre_execution_error(operation, result)


class VermilionGraphQL(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = CodedTransportWSHandler

    def __init__(
        self,
        schema: Any,
        *,
        settings: Settings,
        broker: Broker,
        payments: Payments | None = None,
        snapshots: SnapshotStore | None = None,
        recorder: SignalRecorder | None = None,
        rate_limiter: RateLimiter | None = None,
        media: MediaServices | None = None,
        exports: ExportServices | None = None,
    ) -> None:
        # Without GraphiQL, Strawberry answers a browser's GET /graphql (no `query`) with 404 Not Found.
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            allowed_origins=settings.allowed_origins,
            # WebSocket (graphql-transport-ws, and the legacy graphql-ws) and multipart HTTP streams.
            subscription_protocols=(
                GRAPHQL_TRANSPORT_WS_PROTOCOL,
                GRAPHQL_WS_PROTOCOL,
                MULTIPART_SUBSCRIPTION_PROTOCOL,
            ),
        )
        self.settings = settings
        self.broker = broker
        self.payments = payments
        self.snapshots = snapshots or TableSnapshots()
        self.recorder = recorder or SignalRecorder(context=sqlcount.detached_context)
        self._ide_html = graphiql_html() if settings.graphiql else ""
        self.rate_limiter = rate_limiter
        self.trending = TrendingPool(settings.feed_trending_seconds)
        self.trusted_proxies = parse_networks(settings.trusted_proxies_csv)
        self.persisted_queries = PersistedQueries.from_settings(settings)
        self.media = media
        self.exports = exports

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        websocket = isinstance(request, WebSocket)
        counter = sqlcount.start_request_counter() if self.settings.count_sql and not websocket else None
        context = build_context(
            request,
            self.settings,
            # Over WebSocket the token arrives in connection_init (see on_ws_connect), not in headers.
            authorization=None if websocket else request.headers.get("authorization"),
            request_id=current_request_id(),
            sql_counter=counter,
            broker=self.broker,
            payments=self.payments,
            snapshots=self.snapshots,
            recorder=self.recorder,
            long_lived=websocket,
            response=None if websocket else response,  # type: ignore[arg-type]
        )
        context.rate_limiter = self.rate_limiter
        context.trending = self.trending
        context.persisted_queries = self.persisted_queries
        context.media = self.media
        context.exports = self.exports
        context.client_ip = client_address(
            request.client.host if request.client else None,
            request.headers.get("x-forwarded-for"),
            self.trusted_proxies,
        )
        return context

    def is_websocket_origin_allowed(self, request: WebSocket, origin: str) -> bool:
        # The configured origins, and in development pages on this machine (as CORS allows them).
        pattern = self.settings.allowed_origin_regex
        if pattern is not None and re.fullmatch(pattern, origin.rstrip("/")):
            return True
        return super().is_websocket_origin_allowed(request, origin)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        if not await authenticate_connection(context):
            raise ConnectionRejectionError({"message": "The token is invalid or expired."})
        return await super().on_ws_connect(context)

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET by persisted-query hash has no `query` parameter, but is an operation, not a visit.
        return "extensions" not in request.query_params and super().should_render_graphql_ide(request)

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self._ide_html)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        # A syntax error escapes the extensions' hooks (it is raised while parsing): coded here.
        code_missing(result.errors or ())
        data = process_result(result)
        access_log.record_response(data)  # for the access line and metrics, when they are on
        if not self.settings.is_production:
            extensions: dict[str, Any] = dict(data.get("extensions") or {})
            extensions["requestId"] = current_request_id()
            counter = sqlcount.current_counter()
            if counter is not None:
                extensions["sqlStatements"] = counter[0]
            data["extensions"] = extensions
        return data

    def encode_json(self, data: object) -> str:
        # Text: Strawberry sends bytes as binary WebSocket frames, which graphql-ws, gql and browsers
        # refuse for graphql-transport-ws (a text protocol). HTTP bodies skip the decode (create_response).
        return orjson.dumps(data).decode()

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        response = Response(orjson.dumps(response_data), media_type="application/json")
        response.headers.raw.extend(sub_response.headers.raw)
        if sub_response.background:
            response.background = sub_response.background
        if sub_response.status_code:
            response.status_code = sub_response.status_code
        return response
