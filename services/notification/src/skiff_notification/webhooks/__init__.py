"""Outbound webhooks: endpoints, messages made from public events, and their delivery."""
