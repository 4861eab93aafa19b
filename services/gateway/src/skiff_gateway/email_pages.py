"""The pages the links in Skiff's emails open, so they work with no web app in front.

Notification links to `SKIFF_PUBLIC_URL` + `/verify-email`, `/reset-password`,
`/invites/accept` and `/unsubscribe`, each with `?token=`. Each page is static: one small
script reads the token from the address and calls the public API through this same gateway
(its rate limits and validation apply; it answers in the API.md error shape, shown as is). A
GET changes nothing: mail scanners open links, so every action waits for a button. The token
is never written into the page, the page sends no Referer (the token is in its address) and
is not cached, and its Content-Security-Policy allows only its own script.
"""

from __future__ import annotations

import base64
import hashlib
import html
from dataclasses import dataclass

from litestar import MediaType, Response, get
from litestar.handlers import HTTPRouteHandler

_SCRIPT = """
const token = new URLSearchParams(location.search).get("token") || "";
const form = document.getElementById("form");
const said = document.getElementById("said");
function say(text, failed) {
  said.textContent = text;
  said.className = failed ? "failed" : "done";
}
async function call(path, body, headers) {
  const response = await fetch(path, {
    method: "POST",
    headers: Object.assign({"Content-Type": "application/json"}, headers || {}),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(answer.error || "The request failed (" + response.status + ").");
  }
  return answer;
}
const actions = {
  "verify-email": async () => {
    await call("/api/v1/auth/verify-email", {token});
    return "Your email address is confirmed. You can close this page.";
  },
  "reset-password": async (fields) => {
    if (fields.password.value !== fields.again.value) {
      throw new Error("The two passwords differ.");
    }
    await call("/api/v1/auth/reset-password", {token, password: fields.password.value});
    return "Your password is changed and every session signed out. Sign in with the new one.";
  },
  "accept-invite": async (fields) => {
    const login = await call(
      "/api/v1/auth/login", {email: fields.email.value, password: fields.password.value});
    const bearer = {"Authorization": "Bearer " + login.session.access_token};
    const joined = await call(
      "/api/v1/invites/" + encodeURIComponent(token) + "/accept", undefined, bearer);
    return "You joined " + joined.organization.name + " as " + joined.role + ".";
  },
  "unsubscribe": async () => {
    const done = await call(
      "/api/v1/notifications/unsubscribe?token=" + encodeURIComponent(token));
    return "You will get no more emails about " + done.category + ".";
  },
};
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    say(await actions[form.dataset.action](form.elements), false);
    form.hidden = true;
  } catch (error) {
    say(error.message, true);
    button.disabled = false;
  }
});
if (!token) {
  say("This link has no token: open the whole link from the email.", true);
  form.hidden = true;
}
"""
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; script-src 'sha256-{_SCRIPT_HASH}'; connect-src 'self';"
        " style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}

_LAYOUT = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{title} · Skiff</title>
    <style>
      body {{ font-family: system-ui, sans-serif; max-width: 28rem; margin: 4rem auto;
             padding: 0 1rem; line-height: 1.5; }}
      label {{ display: block; margin: 0.75rem 0; }}
      input {{ display: block; width: 100%; padding: 0.4rem; box-sizing: border-box; }}
      button {{ margin-top: 0.75rem; padding: 0.5rem 1rem; }}
      .failed {{ color: #a00; }} .done {{ color: #060; }}
    </style>
  </head>
  <body>
    <h1>{title}</h1>
    <p>{intro}</p>
    <form id="form" data-action="{action}">
{fields}
      <button type="submit">{button}</button>
    </form>
    <p id="said" role="status"></p>
    <script>{script}</script>
  </body>
</html>
"""


@dataclass(frozen=True)
class Page:
    path: str
    action: str
    title: str
    intro: str
    button: str
    fields: tuple[tuple[str, str, str, str], ...] = ()  # (name, type, label, autocomplete)

    def render(self) -> str:
        fields = "\n".join(
            f'      <label>{html.escape(label)}<input name="{name}" type="{kind}" required'
            f' autocomplete="{autocomplete}"></label>'
            for name, kind, label, autocomplete in self.fields
        )
        return _LAYOUT.format(
            title=html.escape(self.title),
            intro=html.escape(self.intro),
            action=self.action,
            fields=fields,
            button=html.escape(self.button),
            script=_SCRIPT,
        )


PAGES = (
    Page(
        "/verify-email",
        "verify-email",
        "Confirm your email address",
        "Confirm that this address is yours.",
        "Confirm",
    ),
    Page(
        "/reset-password",
        "reset-password",
        "Choose a new password",
        "Resetting signs you out everywhere.",
        "Change my password",
        (
            ("password", "password", "New password", "new-password"),
            ("again", "password", "The same again", "new-password"),
        ),
    ),
    Page(
        "/invites/accept",
        "accept-invite",
        "Accept the invitation",
        "Sign in with the address the invitation was sent to.",
        "Sign in and join",
        (
            ("email", "email", "Email", "email"),
            ("password", "password", "Password", "current-password"),
        ),
    ),
    Page(
        "/unsubscribe",
        "unsubscribe",
        "Unsubscribe",
        "Stop the emails of this kind. You can turn them on again in your settings.",
        "Unsubscribe",
    ),
)


def _handler(page: Page) -> HTTPRouteHandler:
    html_text = page.render()

    @get(page.path, include_in_schema=False, sync_to_thread=False, name=f"page-{page.action}")
    def serve() -> Response[str]:
        return Response(html_text, media_type=MediaType.HTML, headers=HEADERS)

    return serve


def email_pages() -> list[HTTPRouteHandler]:
    """A GET handler per page, each answering its static HTML."""
    return [_handler(page) for page in PAGES]
