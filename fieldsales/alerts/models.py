"""Alerts already raised (webhook alert.raised): one row per alert while it lasts."""
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.db import Base


class RaisedAlert(Base):
    """An alert the evaluation job has seen (alerts/raised.py). Its key is kind + subject +
    since: the same situation keeps its key on every evaluation, a new one (a later follow-up,
    the next day's missing report) gets a new key. The subject is the alert's subject_id, or
    its user when there is none (a missing report never saved)."""

    __tablename__ = "raised_alerts"

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String, primary_key=True)
    subject_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    since: Mapped[datetime] = mapped_column(primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(server_default=func.statement_timestamp())
