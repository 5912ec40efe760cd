"""The duplicate guard's keys (撞单): one row per normalised phone and per normalised company
name in an org, held by exactly one customer or live lead.

Kept by the database, not by the services: the trigger party_keys_sync (migration
0011_leadguard) writes a customer's or a live lead's keys on every insert and on every change of
its phone, name/company or liveness, and refuses (unique_violation `party_keys_taken`) a key
another holder has. The primary key is the lock that makes concurrent creates of the same
phone, as a customer and as a lead, queue: one commits, the other gets 409.
"""
import uuid

from sqlalchemy import CheckConstraint, ForeignKey, ForeignKeyConstraint, Index, text
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.db import Base

KINDS = ("phone", "company")


class PartyKey(Base):
    __tablename__ = "party_keys"
    __table_args__ = (
        CheckConstraint("kind IN ('phone', 'company')", name="kind"),
        CheckConstraint("num_nonnulls(customer_id, lead_id) = 1", name="one_holder"),
        ForeignKeyConstraint(["org_id", "customer_id"], ["customers.org_id", "customers.id"],
                             ondelete="CASCADE"),
        ForeignKeyConstraint(["org_id", "lead_id"], ["leads.org_id", "leads.id"],
                             ondelete="CASCADE"),
        Index("ix_party_keys_customer", "org_id", "customer_id",
              postgresql_where=text("customer_id IS NOT NULL")),
        Index("ix_party_keys_lead", "org_id", "lead_id",
              postgresql_where=text("lead_id IS NOT NULL")),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(primary_key=True)
    value: Mapped[str] = mapped_column(primary_key=True)
    customer_id: Mapped[uuid.UUID | None]
    lead_id: Mapped[uuid.UUID | None]
