"""The audit log: every security-relevant change, with actor, target, time, IP and request id."""
