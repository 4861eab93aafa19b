"""Payload Structs of each publishing service, one module per service."""
