"""Organisations (tenants) and their settings."""
import uuid

from sqlalchemy import CheckConstraint, Integer, SmallInteger, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.db import Base, IdMixin, TimestampMixin

SETTING_DEFAULTS = {
    "workdays": [1, 2, 3, 4, 5],
    "geofence_radius_m": 200,
    "low_accuracy_m": 100,
    "max_speed_kmh": 200,
    "min_visit_minutes": 2,
    "photo_max_mb": 15,
    "visit_cadence_days": {"A": 7, "B": 14, "C": 30},
    "work_hours": {"start": "09:00", "end": "18:00", "grace_minutes": 10},
    "approval_levels": {"outing": 1, "attendance_correction": 1, "target_change": 2},
}


class Org(IdMixin, TimestampMixin, Base):
    __tablename__ = "orgs"
    __table_args__ = (
        CheckConstraint("geofence_radius_m > 0", name="geofence_positive"),
        CheckConstraint("low_accuracy_m > 0", name="low_accuracy_positive"),
        CheckConstraint("max_speed_kmh > 0", name="max_speed_positive"),
        CheckConstraint("min_visit_minutes >= 0", name="min_visit_nonnegative"),
        CheckConstraint("photo_max_mb BETWEEN 1 AND 100", name="photo_max_mb_range"),
        # The attendance SQL casts these to intervals: what it cannot read is never stored.
        CheckConstraint(
            "COALESCE(CASE WHEN jsonb_typeof(work_hours->'grace_minutes') = 'number' "
            "THEN (work_hours->>'grace_minutes')::numeric BETWEEN 0 AND 240 "
            "AND (work_hours->>'grace_minutes')::numeric % 1 = 0 ELSE false END "
            "AND work_hours->>'start' ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$' "
            "AND work_hours->>'end' ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$' "
            "AND work_hours->>'start' < work_hours->>'end', false)", name="work_hours_valid"),
    )

    name: Mapped[str]
    timezone: Mapped[str] = mapped_column(server_default="UTC")
    workdays: Mapped[list[int]] = mapped_column(
        ARRAY(SmallInteger), server_default=text("'{1,2,3,4,5}'")
    )
    geofence_radius_m: Mapped[int] = mapped_column(Integer, server_default="200")
    low_accuracy_m: Mapped[int] = mapped_column(Integer, server_default="100")
    max_speed_kmh: Mapped[int] = mapped_column(Integer, server_default="200")
    min_visit_minutes: Mapped[int] = mapped_column(Integer, server_default="2")
    photo_max_mb: Mapped[int] = mapped_column(Integer, server_default="15")
    # Days between visits per customer grade; a grade left out has no cadence.
    visit_cadence_days: Mapped[dict] = mapped_column(
        JSONB, server_default=text("""'{"A": 7, "B": 14, "C": 30}'::jsonb"""))
    # The working day late / left_early are measured against, in each user's own zone.
    work_hours: Mapped[dict] = mapped_column(JSONB, server_default=text(
        """'{"start": "09:00", "end": "18:00", "grace_minutes": 10}'::jsonb"""))
    # Levels an approval of each kind climbs (fieldsales/approvals/routing.py).
    approval_levels: Mapped[dict] = mapped_column(JSONB, server_default=text(
        """'{"outing": 1, "attendance_correction": 1, "target_change": 2}'::jsonb"""))

    @property
    def org_id(self) -> uuid.UUID:
        return self.id
