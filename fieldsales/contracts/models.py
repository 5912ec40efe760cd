"""Contracts signed with customers, their payment plans and the payments received."""
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (CheckConstraint, ForeignKey, ForeignKeyConstraint, Index, Integer,
                        Numeric, String, Text, UniqueConstraint, func, select, text)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, column_property, mapped_column

from fieldsales.db import Base, ClientIdMixin, TimestampMixin, UpdatedMixin

STATUSES = ("active", "expired", "terminated", "renewed")
METHODS = ("transfer", "cash", "cheque", "other")
DEFAULT_REMIND_DAYS = (90, 30, 7)


class Contract(UpdatedMixin, ClientIdMixin, Base):
    __tablename__ = "contracts"
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "customer_id"], ["customers.org_id", "customers.id"]),
        ForeignKeyConstraint(["org_id", "project_id"], ["projects.org_id", "projects.id"]),
        ForeignKeyConstraint(["org_id", "owner_id"], ["users.org_id", "users.id"]),
        ForeignKeyConstraint(["org_id", "renewal_of_id"], ["contracts.org_id", "contracts.id"]),
        # The database owns both rules, so two racing requests cannot both win them.
        UniqueConstraint("org_id", "number"),
        UniqueConstraint("org_id", "renewal_of_id"),
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates"),
        CheckConstraint("status IN ('active', 'expired', 'terminated', 'renewed')",
                        name="status"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency"),
        Index("ix_contracts_customer", "org_id", "customer_id"),
        Index("ix_contracts_active_end", "org_id", "end_date",
              postgresql_where=text("status = 'active'")),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    customer_id: Mapped[uuid.UUID]
    project_id: Mapped[uuid.UUID | None]
    owner_id: Mapped[uuid.UUID]
    number: Mapped[str]
    title: Mapped[str] = mapped_column(default="", server_default="")
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="CNY", server_default="CNY")
    signed_on: Mapped[date]
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(default="active", server_default="active")
    renewal_of_id: Mapped[uuid.UUID | None]
    remind_days: Mapped[list[int]] = mapped_column(
        ARRAY(Integer), default=lambda: list(DEFAULT_REMIND_DAYS),
        server_default=text("'{90,30,7}'"))
    terminated_at: Mapped[datetime | None]
    terminate_reason: Mapped[str | None] = mapped_column(Text)


class PaymentPlan(TimestampMixin, ClientIdMixin, Base):
    """An instalment the customer should pay by `due_date`."""

    __tablename__ = "payment_plans"
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "contract_id"], ["contracts.org_id", "contracts.id"]),
        CheckConstraint("amount > 0", name="amount"),
        Index("ix_payment_plans_contract", "org_id", "contract_id", "due_date"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    contract_id: Mapped[uuid.UUID]
    due_date: Mapped[date]
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))


class Payment(TimestampMixin, ClientIdMixin, Base):
    """Money received on a contract (never more, in total, than its amount)."""

    __tablename__ = "payments"
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "contract_id"], ["contracts.org_id", "contracts.id"]),
        ForeignKeyConstraint(["org_id", "plan_id"], ["payment_plans.org_id", "payment_plans.id"]),
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("method IN ('transfer', 'cash', 'cheque', 'other')", name="method"),
        Index("ix_payments_contract", "org_id", "contract_id", "received_on"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    contract_id: Mapped[uuid.UUID]
    plan_id: Mapped[uuid.UUID | None]
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    received_on: Mapped[date]
    method: Mapped[str]
    note: Mapped[str | None] = mapped_column(Text)


def received_in(org_id):
    """SQL: what the contract received, the payments of `org_id` (a value routes on Citus)."""
    return (select(func.coalesce(func.sum(Payment.amount), 0))
            .where(Payment.org_id == org_id, Payment.contract_id == Contract.id)
            .correlate_except(Payment).scalar_subquery())


# What was received: always the sum of the payments, read with the contract.
Contract.received = column_property(received_in(Contract.org_id))
Contract.outstanding = property(lambda self: self.amount - self.received)

