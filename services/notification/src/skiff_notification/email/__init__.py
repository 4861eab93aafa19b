"""Email: an outbox of messages built from events, delivered over SMTP by a sender loop."""
