"""Lead pools and leads for tests, written through the models (committed; the `db` fixture rolls
back). Claimed leads go through the holdings trigger like any other write."""
import itertools
import uuid
from datetime import UTC, datetime, timedelta

from fieldsales.leads.rules import normalize_phone
from tests.factories.core import _save

_n = itertools.count(1)
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Shanghai


def pool(org, team=None, name=None, **settings):
    from fieldsales.leads.models import LeadPool
    from fieldsales.leads.rules import POOL_DEFAULTS

    return _save(LeadPool(id=uuid.uuid4(), org_id=org.id, team_id=team.id if team else None,
                          name=name or f"Pool {next(_n)}", **{**POOL_DEFAULTS, **settings}))


def phone():
    n = next(_n)
    return f"139{(n * 48271 + uuid.uuid4().int) % 10**8:08d}"


def lead(org, pool, owner=None, *, status=None, claimed_at=None, created_at=None,
         phone_number=None, lat=None, lng=None, name=None, **fields):
    from fieldsales.leads.models import Lead

    number = phone_number if phone_number is not None else phone()
    status = status or ("claimed" if owner else "pooled")
    if status == "claimed":
        claimed_at = claimed_at or datetime.now(UTC)
    n = next(_n)
    return _save(Lead(
        id=uuid.uuid4(), org_id=org.id, pool_id=pool.id, name=name or f"Lead {n}",
        company=fields.pop("company", f"Company {n}"), phone=number or None,
        phone_normalized=normalize_phone(number) if number else None,
        email=fields.pop("email", f"lead{n}@example.com"), address=fields.pop("address", None),
        lat=lat, lng=lng, source=fields.pop("source", "test"), tags=fields.pop("tags", []),
        status=status, owner_id=owner.id if owner else None, claimed_at=claimed_at,
        follow_up_count=fields.pop("follow_up_count", 0),
        created_at=created_at or datetime.now(UTC) - timedelta(days=1, seconds=-n), **fields))


def leads(org, pool, n, **kw):
    return [lead(org, pool, **kw) for _ in range(n)]
