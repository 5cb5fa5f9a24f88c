"""SQLAlchemy tables for the Who's Who: needs, entries (services and roles), links."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import relationship

from bot.db import Base, utcnow


class NeedRow(Base):
    """A need from the taxonomy, with the words families use for it."""

    __tablename__ = "needs"
    key = Column(String(64), primary_key=True)
    label = Column(String(120), nullable=False)
    synonyms = Column(JSON, nullable=False, default=list)


class EntryNeedRow(Base):
    """Which needs an entry helps with; rank 0 is what it is best for."""

    __tablename__ = "entry_needs"
    entry_id = Column(Integer, ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True)
    need_key = Column(String(64), ForeignKey("needs.key", ondelete="CASCADE"), primary_key=True)
    rank = Column(Integer, nullable=False, default=0)


class EntryRow(Base):
    """A service or a role in the Who's Who, with how to contact it."""

    __tablename__ = "entries"
    id = Column(Integer, primary_key=True)
    key = Column(String(64), nullable=False, unique=True)
    name = Column(String(200), nullable=False)
    kind = Column(String(16), nullable=False)
    summary = Column(String(300), nullable=False)
    age_min = Column(Integer, nullable=False, default=0)
    age_max = Column(Integer, nullable=False, default=25)
    area = Column(String(64), nullable=False)
    phone = Column(String(40))
    email = Column(String(200))
    web = Column(String(300))
    hours = Column(String(200))
    how_to_refer = Column(String(300))
    keywords = Column(JSON, nullable=False, default=list)
    sample_data = Column(Boolean, nullable=False, default=False)
    source = Column(String(300), nullable=False, default="")
    last_checked = Column(Date)
    checked_by = Column(String(120))
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    need_links = relationship(
        EntryNeedRow,
        cascade="all, delete-orphan",
        order_by=EntryNeedRow.rank,
        lazy="selectin",
    )
