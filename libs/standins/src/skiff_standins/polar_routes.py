"""The Polar stand-in's HTTP surface: `/polar/v1/...` (checkouts, customer sessions, refunds)
and the hosted checkout page."""

from __future__ import annotations

import html
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Response, Router, get, post
from litestar.response import Redirect

from skiff_standins import forms
from skiff_standins.pages import page
from skiff_standins.params import AnyRequest, PathId
from skiff_standins.polar_state import PolarState, now_iso


def _state(request: AnyRequest) -> PolarState:
    state: PolarState = request.app.state.polar
    return state


def _unauthorized(request: AnyRequest) -> Response[Any] | None:
    if not request.headers.get("authorization", "").startswith("Bearer "):
        return Response({"error": "Unauthorized", "detail": "Missing token"}, status_code=401)
    return None


@post("/v1/checkouts/", status_code=201)
async def create_checkout(request: AnyRequest) -> Response[Any]:
    if refused := _unauthorized(request):
        return refused
    params = await request.json()
    if not params.get("products"):
        detail = [{"loc": ["body", "products"], "msg": "Field required", "type": "missing"}]
        return Response({"detail": detail}, status_code=422)
    return Response(_state(request).checkout(params), status_code=201)


@get("/v1/checkouts/{checkout_id:str}")
async def show_checkout(request: AnyRequest, checkout_id: PathId) -> Response[Any]:
    checkout = _state(request).checkouts.get(checkout_id)
    if checkout is None:
        return Response({"error": "ResourceNotFound", "detail": "Not found"}, status_code=404)
    return Response(checkout)


@post("/v1/customer-sessions/", status_code=201)
async def create_customer_session(request: AnyRequest) -> Response[Any]:
    if refused := _unauthorized(request):
        return refused
    params = await request.json()
    state = _state(request)
    external = params.get("external_customer_id")
    if external not in state.customers:
        return Response(
            {"error": "ResourceNotFound", "detail": "Customer not found"}, status_code=404
        )
    customer = state.customer(external)
    token = f"polar_cst_{uuid.uuid4().hex}"
    session = {
        "created_at": now_iso(),
        "modified_at": None,
        "id": str(uuid.uuid4()),
        "token": token,
        "expires_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        "return_url": params.get("return_url"),
        "customer_portal_url": f"{state.public_url}/polar/portal/{customer['id']}",
        "customer_id": customer["id"],
        "customer": customer,
    }
    return Response(session, status_code=201)


@post("/v1/refunds/", status_code=201)
async def create_refund(request: AnyRequest) -> Response[Any]:
    if refused := _unauthorized(request):
        return refused
    params = await request.json()
    state = _state(request)
    if params.get("order_id") not in state.orders:
        return Response({"error": "ResourceNotFound", "detail": "Order not found"}, status_code=404)
    return Response(state.refund(params["order_id"], params.get("amount")), status_code=201)


@get("/pay/{checkout_id:str}")
async def checkout_page(request: AnyRequest, checkout_id: PathId) -> Response[str]:
    checkout = _state(request).checkouts.get(checkout_id)
    if checkout is None:
        return page("Not found", "<p>This checkout does not exist.</p>", status=404)
    amount = f"{checkout['total_amount'] / 100:.2f} {checkout['currency'].upper()}"
    buttons = ""
    if checkout["status"] == "open":
        buttons = (
            '<form method="post"><button name="action" value="pay">Pay</button> '
            '<button name="action" value="fail">Fail</button></form>'
        )
    body = f"<h1>Credits</h1><p>{amount}</p><p>Status: {html.escape(checkout['status'])}</p>"
    return page("Polar (local stand-in)", body + buttons)


@post("/pay/{checkout_id:str}", status_code=303)
async def checkout_action(request: AnyRequest, checkout_id: PathId) -> Response[Any]:
    state = _state(request)
    checkout = state.checkouts.get(checkout_id)
    if checkout is None or checkout["status"] != "open":
        return Redirect(f"/polar/pay/{checkout_id}", status_code=303)
    action = forms.parse(await request.body()).get("action")
    if action == "pay":
        state.pay(checkout)
        return Redirect(checkout["success_url"], status_code=303)
    state.fail(checkout)
    return Redirect(f"/polar/pay/{checkout_id}", status_code=303)


@get("/portal/{customer_id:str}")
async def portal_page(request: AnyRequest, customer_id: PathId) -> Response[str]:
    orders = [o for o in _state(request).orders.values() if o["customer_id"] == customer_id]
    rows = "".join(
        f"<li>{o['total_amount'] / 100:.2f} {o['currency'].upper()} ({o['status']})</li>"
        for o in orders
    )
    return page("Polar customer portal (local stand-in)", f"<h2>Orders</h2><ul>{rows}</ul>")


ROUTER = Router(
    path="/polar",
    route_handlers=[
        create_checkout,
        show_checkout,
        create_customer_session,
        create_refund,
        checkout_page,
        checkout_action,
        portal_page,
    ],
)
