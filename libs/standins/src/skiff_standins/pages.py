"""Plain HTML pages (a form, no JavaScript) of the stand-ins."""

from __future__ import annotations

import html

from litestar import MediaType, Response

STYLE = "body{font-family:sans-serif;max-width:36em;margin:3em auto}button{margin:.3em}"


def page(title: str, body: str, *, status: int = 200) -> Response[str]:
    document = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><p><em>{html.escape(title)}</em>: a local "
        f"stand-in, no money moves.</p>{body}</body></html>"
    )
    return Response(document, media_type=MediaType.HTML, status_code=status)
