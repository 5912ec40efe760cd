"""Many field staff at once (the large attendance exports), and a visit checked in and out at
exact instants (late / left_early boundaries, to the second)."""
import uuid

from tests.factories.core import PASSWORD, _hash
from tests.factories.visits import visit


def many_reps(org, team, count, prefix="Rep"):
    """`count` active reps in `team`, inserted in one statement (one password hash for all)."""
    from fieldsales.extensions import db
    from fieldsales.users.models import User

    password_hash = _hash(PASSWORD)
    users = [User(id=uuid.uuid4(), org_id=org.id, role="rep", team_id=team.id,
                  email=f"{prefix.lower()}{n}-{uuid.uuid4().hex[:6]}@example.test",
                  name=f"{prefix} {n:05d}", password_hash=password_hash)
             for n in range(count)]
    db.session.add_all(users)
    db.session.commit()
    return users


def shift(rep, customer, check_in, check_out):
    """One visit by `rep` from `check_in` to `check_out` (UTC-aware datetimes), checked out by
    the rep."""
    return visit(rep, customer, in_at=check_in, out_at=check_out)
