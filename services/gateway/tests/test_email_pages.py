"""The pages the links in emails open: static, token never in the page, only their own script
allowed, and that script calls the right API with the right body (run in Node with a stand-in
DOM and `fetch`)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from gateway_helpers import StartGateway
from skiff_gateway.email_pages import PAGES

HOSTILE = '"><script>alert(1)</script>'
NODE = shutil.which("node")
# Runs the page's script with a stand-in DOM and fetch, submits the form, prints what happened.
HARNESS = r"""
const [script, action, search, fields, answers] = process.argv.slice(2).map(
  (arg, i) => i === 0 ? require("fs").readFileSync(arg, "utf8") : arg);
const calls = [];
const queue = JSON.parse(answers);
let submit = null;
const button = {disabled: false};
const form = {
  dataset: {action}, hidden: false,
  elements: Object.fromEntries(Object.entries(JSON.parse(fields)).map(([k, v]) => [k, {value: v}])),
  querySelector: () => button,
  addEventListener: (type, handler) => { submit = handler; },
};
const said = {textContent: "", className: ""};
const document = {getElementById: (id) => ({form, said})[id]};
const location = {search};
async function fetch(path, options) {
  calls.push({path, method: options.method, headers: options.headers,
              body: options.body === undefined ? null : JSON.parse(options.body)});
  const [status, body] = queue.shift();
  return {ok: status < 400, status, json: async () => body};
}
new Function("document", "location", "fetch", script)(document, location, fetch);
(async () => {
  if (submit && !form.hidden) await submit({preventDefault() {}});
  console.log(JSON.stringify({calls, said: said.textContent, failed: said.className === "failed",
                              hidden: form.hidden}));
})();
"""


def run_page_script(
    tmp_path: Path,
    action: str,
    search: str,
    fields: dict[str, str],
    answers: list[tuple[int, dict[str, Any]]],
) -> dict[str, Any]:
    if NODE is None:
        reason = "node is not installed: the pages' script is not run"
        if os.environ.get("SKIFF_REQUIRE_NODE", "") == "1":
            pytest.fail(f"{reason} (SKIFF_REQUIRE_NODE=1)", pytrace=False)
        pytest.skip(reason)
    page = next(p for p in PAGES if p.action == action).render()
    script_file = tmp_path / "page.js"
    script_file.write_text(_inline_script(page))
    harness = tmp_path / "harness.js"
    harness.write_text(HARNESS)
    arguments = [str(harness), str(script_file), action, search, json.dumps(fields)]
    ran = subprocess.run(
        [NODE, *arguments, json.dumps(answers)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    result: dict[str, Any] = json.loads(ran.stdout)
    return result


def _inline_script(page: str) -> str:
    found = re.search(r"<script>(.*)</script>", page, re.DOTALL)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.path)
async def test_each_page_is_served_static_with_its_guards(
    start_gateway: StartGateway, page: Any
) -> None:
    async with start_gateway() as gateway:
        answer = await gateway.get(page.path, params={"token": HOSTILE})

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert HOSTILE not in answer.text
    assert "alert(1)" not in answer.text
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["cache-control"] == "no-store"
    digest = hashlib.sha256(_inline_script(answer.text).encode()).digest()
    policy = answer.headers["content-security-policy"]
    assert f"script-src 'sha256-{base64.b64encode(digest).decode()}'" in policy
    assert "default-src 'none'" in policy


async def test_the_pages_stay_out_of_the_api_document(start_gateway: StartGateway) -> None:
    async with start_gateway() as gateway:
        document = (await gateway.get("/api/v1/openapi.json")).json()

    assert not {page.path for page in PAGES} & set(document["paths"])


def test_verify_email_posts_the_token(tmp_path: Path) -> None:
    result = run_page_script(tmp_path, "verify-email", "?token=ev%2Babc", {}, [(200, {})])

    assert result["calls"] == [
        {
            "path": "/api/v1/auth/verify-email",
            "method": "POST",
            "headers": {"Content-Type": "application/json"},
            "body": {"token": "ev+abc"},
        }
    ]
    assert result["said"].startswith("Your email address is confirmed")
    assert result["hidden"]


def test_reset_password_checks_the_two_fields_then_posts(tmp_path: Path) -> None:
    differ = run_page_script(
        tmp_path, "reset-password", "?token=pr_1", {"password": "a" * 12, "again": "b" * 12}, []
    )
    assert (differ["calls"], differ["said"], differ["failed"]) == (
        [],
        "The two passwords differ.",
        True,
    )

    refused = run_page_script(
        tmp_path,
        "reset-password",
        "?token=pr_1",
        {"password": "n" * 12, "again": "n" * 12},
        [(401, {"error": "This reset link is invalid or expired.", "code": "invalid_token"})],
    )
    assert refused["calls"][0]["body"] == {"token": "pr_1", "password": "n" * 12}
    assert (refused["said"], refused["failed"], refused["hidden"]) == (
        "This reset link is invalid or expired.",
        True,
        False,
    )


def test_accepting_an_invite_signs_in_then_accepts_with_the_bearer(tmp_path: Path) -> None:
    login = {"session": {"access_token": "at_1"}, "user": {}}
    joined = {"organization": {"name": "Analytical Engines"}, "role": "admin"}
    result = run_page_script(
        tmp_path,
        "accept-invite",
        "?token=inv/tok",
        {"email": "grace@example.com", "password": "p" * 12},
        [(200, login), (200, joined)],
    )

    first, second = result["calls"]
    assert (first["path"], first["body"]) == (
        "/api/v1/auth/login",
        {"email": "grace@example.com", "password": "p" * 12},
    )
    assert second["path"] == "/api/v1/invites/inv%2Ftok/accept"
    assert second["headers"]["Authorization"] == "Bearer at_1"
    assert second["body"] is None
    assert result["said"] == "You joined Analytical Engines as admin."


def test_unsubscribe_posts_the_token_in_the_query(tmp_path: Path) -> None:
    answer = {"category": "billing", "channel": "email", "enabled": False}
    result = run_page_script(tmp_path, "unsubscribe", "?token=un%3D1", {}, [(200, answer)])

    [call] = result["calls"]
    assert (call["path"], call["body"]) == ("/api/v1/notifications/unsubscribe?token=un%3D1", None)
    assert result["said"] == "You will get no more emails about billing."


def test_a_link_without_a_token_says_so_and_hides_the_form(tmp_path: Path) -> None:
    result = run_page_script(tmp_path, "verify-email", "", {}, [])

    assert result["failed"]
    assert result["hidden"]
    assert "no token" in result["said"]
