"""The declarative base of billing's tables, with the messaging and Idempotency-Key tables on
its metadata."""

from __future__ import annotations

from skiff_kit.idempotency import idempotency_table
from skiff_messaging.tables import messaging_tables
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    metadata = MetaData()


MESSAGING = messaging_tables(Base.metadata)
IDEMPOTENCY_KEYS = idempotency_table(Base.metadata)
