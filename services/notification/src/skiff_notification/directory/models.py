"""The directory: users' emails and names, and each organization's members with their role."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from skiff_notification.models import Base


class DirectoryUser(Base):
    __tablename__ = "directory_users"

    user_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))


class DirectoryMember(Base):
    """A membership as of `changed_at`; role None once removed (kept, so a late event loses)."""

    __tablename__ = "directory_members"
    __table_args__ = (Index("ix_directory_members_org_role", "organization_id", "role"),)

    organization_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    role: Mapped[str | None] = mapped_column(String(20))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
