"""Daily reports: what a rep did on one local day, in its own words, with the numbers compiled
from the day's visits, photos and lead work; frozen at submission and reviewed by a manager."""
import uuid
from datetime import date, datetime

from sqlalchemy import (CheckConstraint, ForeignKey, ForeignKeyConstraint, Index, UniqueConstraint,
                        text)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.alerts.rules import RISKY_VISIT_MIN_RISK
from fieldsales.customers.models import ContactRecord
from fieldsales.db import Base, TenantIdMixin, UpdatedMixin
from fieldsales.leads.models import LeadFollowUp
from fieldsales.reports import rules
from fieldsales.visits.models import Visit


def _in(values):
    return ", ".join(f"'{v}'" for v in values)


class DailyReport(TenantIdMixin, UpdatedMixin, Base):
    __tablename__ = "daily_reports"
    __table_args__ = (
        # One report per rep per local day, whatever the application does (two phones saving
        # the first draft at once meet here).
        UniqueConstraint("org_id", "user_id", "day"),
        ForeignKeyConstraint(["org_id", "user_id"], ["users.org_id", "users.id"]),
        ForeignKeyConstraint(["org_id", "reviewed_by"], ["users.org_id", "users.id"]),
        CheckConstraint(f"status IN ({_in(rules.STATUSES)})", name="status"),
        CheckConstraint(f"review_decision IS NULL OR review_decision IN ({_in(rules.DECISIONS)})",
                        name="review_decision"),
        # Submitted and approved reports carry the numbers they were submitted with.
        CheckConstraint("status NOT IN ('submitted', 'approved') OR (frozen_stats IS NOT NULL "
                        "AND frozen_visits IS NOT NULL AND submitted_at IS NOT NULL)",
                        name="frozen_when_submitted"),
        # Approved and returned reports are so because of a review that says so.
        CheckConstraint("status NOT IN ('approved', 'returned') OR (review_decision = status "
                        "AND reviewed_by IS NOT NULL AND reviewed_at IS NOT NULL)",
                        name="reviewed_when_decided"),
        # Manager and HR lists: an org's reports by day.
        Index("ix_daily_reports_org_day", "org_id", "day"),
    )

    # Not indexed alone: ix_daily_reports_org_day leads with it.
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    user_id: Mapped[uuid.UUID]
    day: Mapped[date]  # the rep's local date (API `date`)
    status: Mapped[str]
    summary: Mapped[str | None]
    plan: Mapped[str | None]
    problems: Mapped[str | None]
    # The compiled stats and visit list as submitted (JSON as the API renders them); kept
    # until the next submission, shown while submitted or approved.
    frozen_stats: Mapped[dict | None] = mapped_column(JSONB)
    frozen_visits: Mapped[list | None] = mapped_column(JSONB)
    submitted_at: Mapped[datetime | None]
    reviewed_by: Mapped[uuid.UUID | None]
    reviewed_at: Mapped[datetime | None]
    review_decision: Mapped[str | None]
    review_comment: Mapped[str | None]


# Compiling a day reads each of these by (rep, time); without an index per rep they would scan
# the whole org's rows for every report.
Index("ix_lead_follow_ups_user_created", LeadFollowUp.user_id, LeadFollowUp.created_at)
Index("ix_contact_records_user_created", ContactRecord.user_id, ContactRecord.created_at)
# GET /alerts, risky_visit: the org's recent risky visits only (RISKY_VISIT_MIN_RISK).
Index("ix_visits_org_in_at_risky", Visit.org_id, Visit.in_at,
      postgresql_where=text(f"risk_score >= {RISKY_VISIT_MIN_RISK}"))
