"""The Stripe stand-in's HTTP surface: `/stripe/v1/...` (the API Skiff calls), the hosted
checkout and portal pages, and `/stripe/_control/...` (what a test or a person does at Stripe's
dashboard: refund, dispute, make a card decline, resend an event)."""

from __future__ import annotations

import html
import time
from typing import Any

from litestar import Response, Router, get, post
from litestar.response import Redirect

from skiff_standins import forms
from skiff_standins.pages import page
from skiff_standins.params import AnyRequest, PathId
from skiff_standins.stripe_state import StripeState, new_id, public


def _state(request: AnyRequest) -> StripeState:
    state: StripeState = request.app.state.stripe
    return state


def _error(status: int, kind: str, message: str, **extra: Any) -> Response[Any]:
    return Response({"error": {"type": kind, "message": message, **extra}}, status_code=status)


async def _form(request: AnyRequest) -> dict[str, Any] | Response[Any]:
    """The request's parameters, or Stripe's 401 when no API key is sent."""
    if not request.headers.get("authorization", "").startswith("Bearer sk_"):
        return _error(401, "invalid_request_error", "Invalid API Key provided.")
    return forms.parse(await request.body())


def _remembered(request: AnyRequest) -> Response[Any] | None:
    key = request.headers.get("idempotency-key")
    if key and key in _state(request).idempotent:
        status, body = _state(request).idempotent[key]
        return Response(body, status_code=status, headers={"idempotent-replayed": "true"})
    return None


def _remember(request: AnyRequest, body: dict[str, Any], status: int = 200) -> Response[Any]:
    key = request.headers.get("idempotency-key")
    if key:
        _state(request).idempotent[key] = (status, body)
    return Response(body, status_code=status)


@post("/v1/customers", status_code=200)
async def create_customer(request: AnyRequest) -> Response[Any]:
    params = await _form(request)
    if isinstance(params, Response):
        return params
    if replay := _remembered(request):
        return replay
    customer = {
        "id": new_id("cus"),
        "object": "customer",
        "description": params.get("description"),
        "email": params.get("email"),
        "metadata": params.get("metadata", {}),
        "invoice_settings": {"default_payment_method": None},
        "created": int(time.time()),
    }
    _state(request).customers[customer["id"]] = customer
    return _remember(request, customer)


@post("/v1/checkout/sessions", status_code=200)
async def create_session(request: AnyRequest) -> Response[Any]:
    params = await _form(request)
    if isinstance(params, Response):
        return params
    if replay := _remembered(request):
        return replay
    state = _state(request)
    items = params.get("line_items") or []
    if params.get("mode") != "payment" or not items:
        return _error(400, "invalid_request_error", "mode=payment and line_items are required")
    price = items[0].get("price_data", {})
    amount = int(price.get("unit_amount", 0)) * int(items[0].get("quantity", 1))
    session_id = new_id("cs")
    session = {
        "id": session_id,
        "object": "checkout.session",
        "mode": "payment",
        "status": "open",
        "payment_status": "unpaid",
        "amount_total": amount,
        "currency": price.get("currency", "usd"),
        "customer": params.get("customer"),
        "client_reference_id": params.get("client_reference_id"),
        "metadata": params.get("metadata", {}),
        "payment_intent": None,
        "success_url": params.get("success_url"),
        "cancel_url": params.get("cancel_url"),
        "expires_at": int(params.get("expires_at") or time.time() + 86_400),
        "url": f"{state.public_url}/stripe/pay/{session_id}",
        "_payment_intent_data": params.get("payment_intent_data", {}),
        "_name": price.get("product_data", {}).get("name", "Credits"),
    }
    state.sessions[session_id] = session
    return _remember(request, public(session))


@get("/v1/checkout/sessions/{session_id:str}")
async def show_session(request: AnyRequest, session_id: PathId) -> Response[Any]:
    session = _state(request).sessions.get(session_id)
    if session is None:
        return _error(404, "invalid_request_error", f"No such checkout.session: {session_id}")
    return Response(public(session))


@post("/v1/checkout/sessions/{session_id:str}/expire", status_code=200)
async def expire_session(request: AnyRequest, session_id: PathId) -> Response[Any]:
    session = _state(request).sessions.get(session_id)
    if session is None or session["status"] != "open":
        return _error(400, "invalid_request_error", "Only open sessions can be expired.")
    _state(request).expire(session)
    return Response(public(session))


@post("/v1/billing_portal/sessions", status_code=200)
async def create_portal(request: AnyRequest) -> Response[Any]:
    params = await _form(request)
    if isinstance(params, Response):
        return params
    state = _state(request)
    if params.get("customer") not in state.customers:
        return _error(400, "invalid_request_error", "No such customer.", param="customer")
    portal_id = new_id("bps")
    portal = {
        "id": portal_id,
        "object": "billing_portal.session",
        "customer": params["customer"],
        "return_url": params.get("return_url"),
        "url": f"{state.public_url}/stripe/portal/{portal_id}",
        "created": int(time.time()),
    }
    state.portals[portal_id] = portal
    return Response(portal)


@get("/v1/payment_methods")
async def list_methods(request: AnyRequest) -> Response[Any]:
    customer = request.query_params.get("customer")
    methods = [m for m in _state(request).methods.values() if m["customer"] == customer]
    methods.sort(key=lambda m: m["created"], reverse=True)
    body = {"object": "list", "data": methods, "has_more": False, "url": "/v1/payment_methods"}
    return Response(body)


@post("/v1/payment_intents", status_code=200)
async def create_intent(request: AnyRequest) -> Response[Any]:
    """An off-session, confirmed PaymentIntent of a saved card (auto top-up)."""
    params = await _form(request)
    if isinstance(params, Response):
        return params
    if replay := _remembered(request):
        return replay
    state = _state(request)
    method = state.methods.get(params.get("payment_method", ""))
    if method is None or method["customer"] != params.get("customer"):
        return _error(400, "invalid_request_error", "No such PaymentMethod for this customer.")
    intent = state.intent(
        amount=int(params["amount"]),
        currency=params.get("currency", "usd"),
        customer=params.get("customer"),
        metadata=params.get("metadata", {}),
        method=method["id"],
        status="processing",
    )
    if params.get("customer") in state.declining:
        intent["status"] = "requires_payment_method"
        intent["last_payment_error"] = {
            "code": "card_declined",
            "message": "Your card was declined.",
        }
        state.emit("payment_intent.payment_failed", intent)
        body = {
            "error": {
                "type": "card_error",
                "code": "card_declined",
                "message": "Your card was declined.",
                "payment_intent": intent,
            }
        }
        key = request.headers.get("idempotency-key")
        if key:
            state.idempotent[key] = (402, body)
        return Response(body, status_code=402)
    state.succeed(intent)
    return _remember(request, intent)


@post("/v1/refunds", status_code=200)
async def create_refund(request: AnyRequest) -> Response[Any]:
    params = await _form(request)
    if isinstance(params, Response):
        return params
    amount = params.get("amount")
    try:
        refund = _state(request).refund(
            params.get("payment_intent", ""), int(amount) if amount else None
        )
    except LookupError:
        return _error(400, "invalid_request_error", "No such payment_intent.")
    return Response(refund)


@post("/_control/disputes", status_code=200)
async def open_dispute(request: AnyRequest) -> Response[Any]:
    params = await request.json()
    return Response(_state(request).dispute(params["payment_intent"], params.get("amount")))


@post("/_control/disputes/{dispute_id:str}/close", status_code=200)
async def close_dispute(request: AnyRequest, dispute_id: PathId) -> Response[Any]:
    params = await request.json()
    return Response(_state(request).close_dispute(dispute_id, params["status"]))


@post("/_control/customers/{customer_id:str}/decline", status_code=200)
async def decline_cards(request: AnyRequest, customer_id: PathId) -> Response[Any]:
    params = await request.json()
    state = _state(request)
    (state.declining.add if params.get("decline", True) else state.declining.discard)(customer_id)
    return Response({"customer": customer_id, "declining": customer_id in state.declining})


@post("/_control/events/{event_id:str}/resend", status_code=200)
async def resend(request: AnyRequest, event_id: PathId) -> Response[Any]:
    _state(request).resend(event_id)
    return Response({"resent": event_id})


@get("/pay/{session_id:str}")
async def checkout_page(request: AnyRequest, session_id: PathId) -> Response[str]:
    session = _state(request).sessions.get(session_id)
    if session is None:
        return page("Not found", "<p>This checkout does not exist.</p>", status=404)
    amount = f"{session['amount_total'] / 100:.2f} {session['currency'].upper()}"
    name = html.escape(session["_name"])
    if session["status"] == "open":
        buttons = [("pay", "Pay"), ("later", "Pay later (bank transfer)"), ("fail", "Fail")]
    elif session["payment_status"] == "unpaid" and session["status"] == "complete":
        buttons = [("settle", "Settle the transfer"), ("fail_async", "The transfer fails")]
    else:
        buttons = []
    form = "".join(
        f'<button name="action" value="{value}">{label}</button> ' for value, label in buttons
    )
    body = (
        f"<h1>{name}</h1><p>{amount}</p><p>Status: {session['status']}, "
        f"{session['payment_status']}</p>"
        + (f'<form method="post">{form}</form>' if buttons else "")
    )
    return page("Stripe (local stand-in)", body)


@post("/pay/{session_id:str}", status_code=303)
async def checkout_action(request: AnyRequest, session_id: PathId) -> Response[Any]:
    state = _state(request)
    session = state.sessions.get(session_id)
    if session is None:
        return page("Not found", "<p>This checkout does not exist.</p>", status=404)
    action = forms.parse(await request.body()).get("action")
    if action == "pay" and session["status"] == "open":
        state.pay(session)
        return Redirect(session["success_url"] or f"/stripe/pay/{session_id}", status_code=303)
    if action == "later" and session["status"] == "open":
        state.pay(session, later=True)
    elif action in ("settle", "fail_async") and session["payment_status"] == "unpaid":
        state.settle(session, succeeded=action == "settle")
    elif action == "fail":
        return page("Declined", "<p>Your card was declined. Go back and try again.</p>", status=402)
    return Redirect(f"/stripe/pay/{session_id}", status_code=303)


@get("/portal/{portal_id:str}")
async def portal_page(request: AnyRequest, portal_id: PathId) -> Response[str]:
    state = _state(request)
    portal = state.portals.get(portal_id)
    if portal is None:
        return page("Not found", "<p>This portal session does not exist.</p>", status=404)
    cards = [m for m in state.methods.values() if m["customer"] == portal["customer"]]
    charges = [c for c in state.charges.values() if c["customer"] == portal["customer"]]
    rows = "".join(
        f"<li>{c['amount'] / 100:.2f} {c['currency'].upper()} — refunded "
        f"{c['amount_refunded'] / 100:.2f}</li>"
        for c in charges
    )
    saved = "".join(f"<li>{m['card']['brand']} •••• {m['card']['last4']}</li>" for m in cards)
    back = html.escape(portal["return_url"] or "/")
    body = (
        f"<h2>Cards</h2><ul>{saved}</ul><h2>Payments</h2><ul>{rows}</ul><a href='{back}'>Back</a>"
    )
    return page("Billing portal (local stand-in)", body)


ROUTER = Router(
    path="/stripe",
    route_handlers=[
        create_customer,
        create_session,
        show_session,
        expire_session,
        create_portal,
        list_methods,
        create_intent,
        create_refund,
        open_dispute,
        close_dispute,
        decline_cards,
        resend,
        checkout_page,
        checkout_action,
        portal_page,
    ],
)
