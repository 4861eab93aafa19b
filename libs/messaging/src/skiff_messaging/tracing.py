"""W3C trace context across the bus: inject into headers and envelopes, extract for spans.

The bus carries `traceparent` (and `tracestate`) only, as HTTP does (`skiff_kit.telemetry`):
the W3C propagator is called directly, not the global composite one, whose baggage step nothing
here sends or reads and which costs a few microseconds on every request and reply.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

tracer = trace.get_tracer("skiff_messaging")
_propagator = TraceContextTextMapPropagator()


def unrecorded_span(parent: Context | None = None) -> Span:
    """What the lazy provider makes while nothing reads its spans (`skiff_kit.telemetry.
    spans_unread`): a new span id in the parent's trace (`parent`, by default the current
    context; a new trace without one), not sampled, recorded by nobody. Made directly, it
    skips the SDK's sampler and span machinery, a few microseconds on every request and reply.
    """
    parent_span = trace.get_current_span(parent).get_span_context()
    trace_id = parent_span.trace_id if parent_span.is_valid else random.getrandbits(128) or 1
    return NonRecordingSpan(
        SpanContext(
            trace_id=trace_id,
            span_id=random.getrandbits(64) or 1,
            is_remote=False,
            trace_flags=TraceFlags(TraceFlags.DEFAULT),
            trace_state=parent_span.trace_state,
        )
    )


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
