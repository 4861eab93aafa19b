"""W3C trace context across the bus: inject into headers and envelopes, extract for spans."""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import Span

tracer = trace.get_tracer("skiff_messaging")


def trace_headers(span: Span | None = None) -> dict[str, str]:
    """`traceparent` (and `tracestate`) of `span`, by default the current one; empty when
    there is none."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=None if span is None else trace.set_span_in_context(span))
    return carrier


def context_of(headers: Mapping[str, str] | None, traceparent: str | None = None) -> Context:
    """The remote context to continue: the envelope's traceparent wins over the headers."""
    if not headers and not traceparent:
        return Context()  # what extracting from nothing gives, without the propagators' work
    carrier = dict(headers or {})
    if traceparent:
        carrier["traceparent"] = traceparent
    return propagate.extract(carrier)


def trace_id_hex() -> str | None:
    """The current trace id in hex, for log lines; None outside a sampled span."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None
