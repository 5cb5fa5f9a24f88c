"""SQLAlchemy tables for the Who's Who: needs, entries (services and roles), links, version."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Date, DateTime, ForeignKey, Integer, String, Text
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
    """A service or a role in the Who's Who, with how to contact it.

    ``source`` names where it came from (a file name, a feed, or ``--source``): an import
    only changes or removes its own source's entries. ``search_terms`` are the entry's
    words for the search index, worked out once when it is imported; ``content_hash``
    tells an import whether anything changed; ``version`` is the directory version of the
    import that last changed it.
    """

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
    web = Column(String(500))
    hours = Column(Text)
    how_to_refer = Column(Text)
    keywords = Column(JSON, nullable=False, default=list)
    sample_data = Column(Boolean, nullable=False, default=False)
    source = Column(String(300), nullable=False, default="")
    last_checked = Column(Date)
    checked_by = Column(String(120))
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    phone_dial = Column(String(20))
    more_phones = Column(JSON, nullable=False, default=list)
    description = Column(Text, nullable=False, default="")
    organisation = Column(String(300))
    address = Column(Text)
    eligibility = Column(Text)
    cost = Column(Text)
    languages = Column(JSON, nullable=False, default=list)
    accessibility = Column(Text)
    taxonomy = Column(JSON, nullable=False, default=list)
    source_id = Column(String(300))
    search_terms = Column(JSON, nullable=False, default=dict)
    content_hash = Column(String(64), nullable=False, default="")
    version = Column(Integer, nullable=False, default=0)
    need_links = relationship(
        EntryNeedRow,
        cascade="all, delete-orphan",
        order_by=EntryNeedRow.rank,
        lazy="selectin",
    )


class DirectoryStateRow(Base):
    """One row: the directory's version, raised by every import that changes anything, so
    each server process knows when to rebuild its search index."""

    __tablename__ = "directory_state"
    id = Column(Integer, primary_key=True)
    version = Column(Integer, nullable=False, default=0)
    changed_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
