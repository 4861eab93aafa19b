"""W3C trace context across the bus: inject into headers and envelopes, extract for spans.

The bus carries `traceparent` (and `tracestate`) only, as HTTP does (`skiff_kit.telemetry`):
the W3C propagator is called directly, not the global composite one, whose baggage step nothing
here sends or reads and which costs a few microseconds on every request and reply.
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

tracer = trace.get_tracer("skiff_messaging")
_propagator = TraceContextTextMapPropagator()


def trace_headers(span: Span | None = None) -> dict[str, str]:
    """`traceparent` (and `tracestate`) of `span`, by default the current one; empty when
    there is none."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier, context=None if span is None else trace.set_span_in_context(span))
    return carrier


def context_of(headers: Mapping[str, str] | None, traceparent: str | None = None) -> Context:
    """The remote context to continue: the envelope's traceparent wins over the headers."""
    if not headers and not traceparent:
        return Context()  # what extracting from nothing gives, without the propagators' work
    carrier = dict(headers or {})
    if traceparent:
        carrier["traceparent"] = traceparent
    return _propagator.extract(carrier)


def trace_id_hex() -> str | None:
    """The current trace id in hex, for log lines; None outside a sampled span."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None
