"""OpenTelemetry traces over OTLP/HTTP, only when an endpoint is configured.

With `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set, every HTTP request and
WebSocket connection is a span (opentelemetry-instrumentation-asgi), and a GraphQL request's span carries
its operation (`graphql.operation.name`, `graphql.operation.type`), request id, error codes, SQL
statement count and query cost. The SDK's standard variables apply: `OTEL_SERVICE_NAME` (default
"vermilion"), `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_TRACES_SAMPLER`(`_ARG`),
`OTEL_PYTHON_ASGI_EXCLUDED_URLS` (default: /healthz and /metrics, probes that would drown the rest),
and `OTEL_SDK_DISABLED=true` turns it all off.

Without an endpoint nothing of OpenTelemetry is imported: every import is inside the functions below.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from starlette.middleware import Middleware

from api.access_log import Access

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
DEFAULT_SERVICE_NAME = "vermilion"
DEFAULT_EXCLUDED_URLS = "/healthz,/metrics"


def configured(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether traces are wanted: an OTLP endpoint is set and the SDK is not disabled."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(environ.get(name, "").strip() for name in ENDPOINT_VARIABLES)


def span_exporter() -> SpanExporter:
    """The OTLP/HTTP exporter; it reads its endpoint, headers and timeout from the environment."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def tracer_provider() -> TracerProvider:
    """A provider that batches spans to `span_exporter()`; also the global one unless another is set
    already (an `opentelemetry-instrument` wrapper, say). Batched spans are sent at exit too."""
    from opentelemetry import trace
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(span_exporter()))
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        trace.set_tracer_provider(provider)
    return provider


def middleware(provider: TracerProvider) -> Middleware:
    """The ASGI middleware that makes a span of each request (the outermost one, so the span covers all)."""
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    excluded = os.environ.get("OTEL_PYTHON_ASGI_EXCLUDED_URLS") or os.environ.get(
        "OTEL_PYTHON_EXCLUDED_URLS", DEFAULT_EXCLUDED_URLS
    )
    return Middleware(
        OpenTelemetryMiddleware,
        tracer_provider=provider,
        excluded_urls=excluded,
        # One span per request: not one more for each chunk received or sent.
        exclude_spans=["receive", "send"],
    )


def annotate(access: Access) -> None:
    """Put the GraphQL facts of a finished request on its span (an observer of api/access_log.py)."""
    from opentelemetry import trace

    span = trace.get_current_span()
    if not span.is_recording():
        return
    attributes: dict[str, Any] = {"vermilion.request_id": access.request_id}
    if access.operation_type is not None:
        attributes["graphql.operation.type"] = access.operation_type
    if access.operation_name is not None:
        attributes["graphql.operation.name"] = access.operation_name
    if access.error_codes:
        attributes["vermilion.graphql.error_codes"] = list(dict.fromkeys(access.error_codes))
    if access.sql_statements is not None:
        attributes["vermilion.sql_statements"] = access.sql_statements
    if access.cost_requested is not None:
        attributes["vermilion.graphql.cost.requested"] = access.cost_requested
    span.set_attributes(attributes)
