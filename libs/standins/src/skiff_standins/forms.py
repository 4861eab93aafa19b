"""Stripe's request bodies: `application/x-www-form-urlencoded` with bracketed nesting."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl


def parse(body: bytes) -> dict[str, Any]:
    """`a[b][0][c]=1` → `{"a": {"b": [{"c": "1"}]}}` (values stay strings, as Stripe's)."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        parts = key.replace("]", "").split("[")
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            following = None if last else parts[index + 1]
            child: Any = value if last else ([] if following and following.isdigit() else {})
            if isinstance(node, list):
                position = int(part)
                while len(node) <= position:
                    node.append(None)
                if node[position] is None or last:
                    node[position] = child
                node = node[position]
            else:
                if part not in node or last:
                    node[part] = child
                node = node[part]
    return root


def truthy(value: Any) -> bool:
    return str(value).lower() in ("true", "1", "yes")
