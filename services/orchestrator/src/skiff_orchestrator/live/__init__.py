"""The LIVE stream: announcing session status, and following it (SSE, WebSocket)."""
