"""Targets written straight to the database (any status), committed."""
import uuid
from decimal import Decimal


def target(org, subject, metric="visits", period="2027", amount="100", parent=None,
           status="draft", created_by=None):
    """A target for `subject` (an Org, Team or User row)."""
    from fieldsales.orgs.models import Org
    from fieldsales.targets.models import Target
    from fieldsales.targets.periods import parse
    from fieldsales.teams.models import Team
    from tests.factories.core import _save

    kind = "org" if isinstance(subject, Org) else "team" if isinstance(subject, Team) else "user"
    p = parse(period)
    return _save(Target(org_id=org.id, id=uuid.uuid4(), metric=metric, period=period,
                        starts=p.first, ends=p.last, subject_type=kind, subject_id=subject.id,
                        amount=Decimal(amount), parent_id=parent.id if parent else None,
                        status=status, created_by=created_by.id if created_by else None))


def subject(row) -> dict:
    from fieldsales.orgs.models import Org
    from fieldsales.teams.models import Team

    kind = "org" if isinstance(row, Org) else "team" if isinstance(row, Team) else "user"
    return {"type": kind, "id": str(row.id)}


def converted(lead, owner, at):
    """The ledger's record of `owner` converting `lead` at `at` (as leads/converting.py
    writes it: from_user_id is who held it)."""
    from fieldsales.leads.models import LeadEvent
    from tests.factories.core import _save

    return _save(LeadEvent(id=uuid.uuid4(), org_id=lead.org_id, lead_id=lead.id, at=at,
                           action="converted", actor_id=owner.id, from_user_id=owner.id))


def moved_at(user, at):
    """Put the latest team move of `user` (written by the users trigger when its team changed)
    at `at` instead of when the test ran."""
    from sqlalchemy import text

    from fieldsales.extensions import db

    db.session.execute(text(
        "UPDATE user_team_history SET until = :at WHERE org_id = :org AND user_id = :user "
        "AND until = (SELECT max(since) FROM user_team_history WHERE org_id = :org "
        "AND user_id = :user)"), {"at": at, "org": user.org_id, "user": user.id})
    db.session.execute(text(
        "UPDATE user_team_history SET since = :at WHERE org_id = :org AND user_id = :user "
        "AND until IS NULL"), {"at": at, "org": user.org_id, "user": user.id})
    db.session.commit()
