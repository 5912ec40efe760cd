"""Organisations and their settings."""
import uuid

from sqlalchemy import select

from fieldsales import audit
from fieldsales.auth import passwords
from fieldsales.auth.models import UserEmail
from fieldsales.errors import Conflict
from fieldsales.db import apply_changes, transaction
from fieldsales.extensions import db
from fieldsales.orgs.models import Org
from fieldsales.scope import Principal
from fieldsales.users.models import User

SETTINGS = ("timezone", "workdays", "geofence_radius_m", "low_accuracy_m", "max_speed_kmh",
            "min_visit_minutes", "photo_max_mb", "visit_cadence_days", "work_hours",
            "approval_levels")


def create_org(*, name: str, admin_email: str, admin_password: str, timezone: str = "UTC",
               admin_name: str = "Administrator"):
    """A new tenant with its first admin (CLI)."""
    with transaction():
        # The email directory, not users: one shard on Citus, where a multi-shard read would
        # forbid the write to the reference table orgs that follows in this transaction.
        if db.session.scalar(select(UserEmail.user_id)
                             .where(UserEmail.email == admin_email.strip().lower())):
            raise Conflict("A user with this email already exists.", error="email_taken")
        org = Org(id=uuid.uuid4(), name=name, timezone=timezone)
        db.session.add(org)
        db.session.flush()
        admin = User(id=uuid.uuid4(), org_id=org.id, email=admin_email, name=admin_name,
                     role="admin", password_hash=passwords.hash_password(admin_password))
        db.session.add(admin)
        db.session.flush()
        audit.record(org_id=org.id, user_id=admin.id, actor_id=None, action="org.created",
                     entity_type="org", entity_id=org.id, data={"name": name, "timezone": timezone})
    return org, admin


def get_settings(*, principal: Principal):
    """The caller's org settings (every role may read them: phones need the thresholds)."""
    return db.session.get(Org, principal.org_id)


def update_settings(*, principal: Principal, data: dict):
    """Change org settings (admin)."""
    with transaction():
        principal.scope.require_role("admin")
        org = db.session.scalar(select(Org).where(Org.id == principal.org_id)
                                .with_for_update(key_share=True))
        if "approval_levels" in data:  # a kind left out keeps its current number of levels
            data = {**data, "approval_levels": {**org.approval_levels, **data["approval_levels"]}}
        changed = apply_changes(org, data, SETTINGS)
        if changed:
            audit.record(org_id=org.id, user_id=principal.id, actor_id=principal.id,
                         action="org.settings_updated", entity_type="org", entity_id=org.id,
                         data=changed)
    return org
