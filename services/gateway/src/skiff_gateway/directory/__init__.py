"""The gateway's own view of API keys, memberships and revoked sessions (NATS KV, in memory)."""
