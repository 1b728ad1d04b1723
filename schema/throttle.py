"""What one request may spend: the single-query cost budget, the client's cost bucket and write budgets.

`RequestBudgets` prices the operation (schema/cost.py; the plan is cached with its document), refuses it
before anything executes when it costs more than `VERMILION_QUERY_COST_BUDGET` (QUERY_TOO_COSTLY), and
otherwise charges the requested cost to the client's bucket and a mutation's write points to the
client's write budgets (RATE_LIMITED, HTTP 429, when either is spent). Every HTTP response then carries
`extensions.cost`; `actualQueryCost` is the requested cost when the operation ran (it is what the bucket
was charged; nothing is refunded) and 0 when it did not.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Hashable, Mapping
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, Node
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension
from strawberry.http.streaming import MultipartSubscriptionTransport
from strawberry.types.graphql import OperationType

from core.errors import RequestCode, RequestRefused
from core.ratelimit import Action, Client, ThrottleStatus
from schema.context import Info
from schema.cost import OperationPlan, plan_document

# Bluesky's write points: create 3, update 2, delete 1; likes, collects, follows and signals 1.
CREATE, UPDATE, DELETE, ENGAGE = 3, 2, 1, 1
# Root mutation fields by name; a mutation not listed counts as an update. Account mutations cost
# nothing here: each has its own throttle (core/ratelimit.py `Action`) or needs a live session.
WRITE_POINTS: dict[str, int] = {
    "signUp": 0,
    "signIn": 0,
    "signOut": 0,
    "passwordResetRequest": 0,
    "passwordResetComplete": 0,
    "viewerUpdate": UPDATE,
    "viewerPasswordChange": UPDATE,
    # An archive is a full read of the person's data (one a day anyway); a deletion checks the password.
    "viewerExportCreate": CREATE,
    "viewerDelete": UPDATE,
    "userFollow": ENGAGE,
    "userUnfollow": ENGAGE,
    "userBlock": ENGAGE,
    "userUnblock": ENGAGE,
    "userMute": ENGAGE,
    "userUnmute": ENGAGE,
    "filterCreate": CREATE,
    "filterDelete": DELETE,
    "noteCreate": CREATE,
    "noteUpdate": UPDATE,
    "noteDelete": DELETE,
    "noteLike": ENGAGE,
    "noteUnlike": ENGAGE,
    "noteCollect": ENGAGE,
    "noteUncollect": ENGAGE,
    "noteView": ENGAGE,
    "noteMarkNotInterested": ENGAGE,
    "boardCreate": CREATE,
    "commentCreate": CREATE,
    "commentDelete": DELETE,
    "productCreate": CREATE,
    "productUpdate": UPDATE,
    "merchantSettingsUpdate": UPDATE,
    "discountCodeCreate": CREATE,
    "discountCodeDeactivate": UPDATE,
    "shippingRateCreate": CREATE,
    "shippingRateUpdate": UPDATE,
    "shippingRateArchive": DELETE,
    "payoutRequest": CREATE,
    "cartCreate": CREATE,
    "cartLinesAdd": UPDATE,
    "cartLinesUpdate": UPDATE,
    "cartLinesRemove": DELETE,
    "cartShippingAddressSet": UPDATE,
    "cartDeliveryOptionSelect": UPDATE,
    "cartDiscountCodeApply": UPDATE,
    "cartDiscountCodeRemove": UPDATE,
    "checkoutStart": CREATE,
    "checkoutComplete": UPDATE,
    "orderCancel": UPDATE,
    "orderFulfill": UPDATE,
    "orderRefund": CREATE,
    "shipmentMarkDelivered": UPDATE,
    "returnRequestCreate": CREATE,
    "returnApprove": UPDATE,
    "returnReject": UPDATE,
    # Refunds what the goods were paid, as orderRefund does.
    "returnReceive": CREATE,
    "notificationsMarkRead": UPDATE,
    # Uploads have their own limit per person (VERMILION_MEDIA_UPLOAD_LIMITS_PER_USER); completing one
    # checks a file the same person just sent.
    "mediaUploadCreate": CREATE,
    "mediaUploadComplete": 0,
    "mediaUpdate": UPDATE,
    # Reports and moderators' decisions have their own hourly limits too (VERMILION_REPORT_LIMITS_PER_USER,
    # VERMILION_MODERATION_LIMITS_PER_*); an appeal without a token is throttled as a sign-in.
    "reportCreate": CREATE,
    "moderationAction": UPDATE,
    "moderationCaseAssign": UPDATE,
    "roleGrant": UPDATE,
    "appealCreate": CREATE,
    "appealResolve": UPDATE,
}


def write_points(mutations: tuple[str, ...]) -> int:
    """The write points of an operation's root mutation fields (each occurrence counts)."""
    return sum(WRITE_POINTS.get(name, UPDATE) for name in mutations)


class DocumentCache:
    """Values worked out from a document (or one of its nodes, such as an operation), by that object.
    The parser cache hands out the same document object for the same text, so identity is the key: a
    document (graphql-core's frozen dataclasses) would hash its whole tree on every lookup. An entry keeps
    its object alive, so an id is never reused while it is cached. `extra` tells apart values of one
    document made with different inputs."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[tuple[int, int, Hashable], tuple[object, object, Any]] = OrderedDict()
        self.hits = self.misses = 0

    def get(
        self,
        schema: GraphQLSchema,
        document: Node,
        make: Callable[[], Any],
        *,
        extra: Hashable = None,
        cache: bool = True,
    ) -> Any:
        key = (id(schema), id(document), extra)
        entry = self._entries.get(key)
        if entry is not None and entry[0] is schema and entry[1] is document:
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[2]
        self.misses += 1
        value = make()
        if cache:
            self._entries[key] = (schema, document, value)
            if len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return value


class PlanCache(DocumentCache):
    """Operation plans by document object (`DocumentCache`)."""

    def plans(
        self, schema: GraphQLSchema, document: DocumentNode, *, cache: bool
    ) -> Mapping[str | None, OperationPlan]:
        return self.get(schema, document, lambda: plan_document(schema, document), cache=cache)  # type: ignore[no-any-return]


_MULTIPART = MultipartSubscriptionTransport()


def _subscription_refusal(context: Any) -> RequestRefused | None:
    """BAD_REQUEST (HTTP 400) for a subscription sent over HTTP without asking for a multipart stream."""
    request = getattr(context, "request", None)
    if getattr(context, "response", None) is None or request is None:
        return None  # over WebSocket
    if _MULTIPART.accepts(request.headers.get("accept", "")):
        return None
    return RequestRefused(
        RequestCode.BAD_REQUEST,
        "Subscriptions are served over WebSocket (graphql-transport-ws, at this same URL) or over HTTP with "
        "`Accept: multipart/mixed;subscriptionSpec=1.0`.",
        http_status=400,
    )


def _too_costly(cost: int, budget: int) -> RequestRefused:
    return RequestRefused(
        RequestCode.QUERY_TOO_COSTLY,
        f"This operation may cost {cost} points; a single operation may cost at most {budget}. "
        "Ask for fewer items (`first`) or fewer nested lists.",
        cost=cost,
        budget=budget,
    )


class RequestBudgets(SchemaExtension):
    """Prices, refuses or charges each operation before it runs, and reports `extensions.cost`."""

    def __init__(self, *, budget: int, plans: PlanCache, max_cached_chars: int) -> None:
        self.budget = budget
        self.plan_cache = plans
        self.max_cached_chars = max_cached_chars
        self.requested = 0
        self.actual = 0
        self.status: ThrottleStatus | None = None

    def _client(self) -> tuple[Any, Client | None]:
        context = self.execution_context.context
        limiter = getattr(context, "rate_limiter", None)
        if limiter is None:
            return None, None
        return limiter, Client(user_id=context.viewer_id, ip=context.client_ip)

    async def on_execute(self) -> AsyncIterator[None]:  # type: ignore[override]
        execution = self.execution_context
        document = execution.graphql_document
        if document is None:
            yield
            return
        subscription = execution.operation_type is OperationType.SUBSCRIPTION
        # Over HTTP a subscription needs the multipart protocol; as a plain request it could only fail.
        refusal = _subscription_refusal(execution.context) if subscription else None
        if refusal is None:
            plans = self.plan_cache.plans(
                execution.schema._schema,
                document,
                cache=len(execution.query or "") <= self.max_cached_chars,
            )
            plan = plans.get(execution.operation_name) if execution.operation_name else None
            if plan is None and not execution.operation_name and len(plans) == 1:
                plan = next(iter(plans.values()))
            if plan is not None:
                refusal = await self._refusal(plan, charge=not subscription)
        if refusal is not None:
            if subscription:
                # Strawberry answers a subscription whose on_execute raised with that error; raised, it
                # never reaches ExecutionOutcome, so its HTTP status (a multipart request's) is set here.
                refusal.decide(getattr(execution.context, "response", None))
                raise refusal
            # Execution is skipped when a result is already there: no resolver runs.
            execution.result = GraphQLExecutionResult(
                data=None, errors=[GraphQLError(refusal.message, original_error=refusal)]
            )
        else:
            self.actual = self.requested
        yield

    async def _refusal(self, plan: OperationPlan, *, charge: bool) -> RequestRefused | None:
        """Over the single-operation budget (each event of a subscription runs its selection too), or —
        when `charge` — over the client's cost bucket or write budgets. A subscription is long-lived and
        its events are small: it is priced, not charged."""
        self.requested = plan.cost(self.execution_context.variables)
        if self.requested > self.budget:
            return _too_costly(self.requested, self.budget)
        if not charge:
            return None
        limiter, client = self._client()
        if limiter is None or client is None:
            return None
        try:
            self.status = await limiter.charge_cost(client, self.requested)
            await limiter.charge_writes(client, write_points(plan.mutations))
        except RequestRefused as refusal:
            return refusal
        return None

    async def get_results(self) -> dict[str, Any]:  # type: ignore[override]
        if getattr(self.execution_context.context, "response", None) is None:
            return {}  # over WebSocket: operations are charged, but frames stay as they were
        if self.status is None:
            limiter, client = self._client()
            if limiter is not None and client is not None:
                self.status = await limiter.cost_status(client)
        status = self.status
        return {
            "cost": {
                "requestedQueryCost": self.requested,
                "actualQueryCost": self.actual,
                "throttleStatus": None
                if status is None
                else {
                    "maximumAvailable": status.maximum_available,
                    "currentlyAvailable": status.currently_available,
                    "restoreRate": status.restore_rate,
                },
            }
        }


async def throttle(info: Info, action: Action, *, email: str | None = None, per_user: bool = False) -> None:
    """Count one attempt of an action (sign-in, sign-up, password reset, an upload) against its limits per
    email and per client IP (per signed-in user with `per_user`); RATE_LIMITED (a top-level error, HTTP
    429) when over one."""
    context = info.context
    if context.rate_limiter is not None:
        user_id = context.viewer_id if per_user else None
        await context.rate_limiter.check(action, email=email, ip=context.client_ip, user_id=user_id)
