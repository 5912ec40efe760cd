"""`fieldsales contracts expire` (cron): active contracts whose end_date is over in their
owner's local calendar become `expired`. Reading the date afresh on every run means a run that
was skipped loses nothing: the next one catches up, for every org."""
from datetime import UTC, datetime
from itertools import groupby

from sqlalchemy import Date, cast, func, select, update

from fieldsales.contracts.evidence import seal_contract
from fieldsales.contracts.models import Contract
from fieldsales.db import transaction
from fieldsales.extensions import db
from fieldsales.orgs.models import Org
from fieldsales.scope import routing
from fieldsales.users.models import User
from fieldsales.users.timezone import effective_timezone_sql


def expire(*, now: datetime | None = None, org_id=None, progress=None) -> int:
    """Mark expired every active contract (of every org, or of `org_id`) that ended before its
    owner's local today; one transaction per owner (its contracts locked, then its chain).
    Returns how many."""
    now = now or datetime.now(UTC)
    today = cast(func.timezone(effective_timezone_sql(), now), Date)
    stmt = (select(Contract.org_id, Contract.owner_id, Contract.id)
            .join(User, (User.org_id == Contract.org_id) & (User.id == Contract.owner_id))
            .join(Org, Org.id == Contract.org_id)
            .where(Contract.status == "active", Contract.end_date < today)
            .order_by(Contract.org_id, Contract.owner_id, Contract.id))
    if org_id is not None:
        stmt = stmt.where(Contract.org_id == org_id)
    with transaction():
        due = db.session.execute(stmt).all()
    expired = owners = 0
    for (org_id, _owner), rows in groupby(due, key=lambda r: (r.org_id, r.owner_id)):
        with transaction():
            # Re-checked under the row lock: a renewal or termination that got there first wins.
            ids = db.session.scalars(
                update(Contract).where(Contract.org_id == org_id,
                                       Contract.id.in_([r.id for r in rows]),
                                       Contract.status == "active")
                .values(status="expired", updated_at=func.statement_timestamp())
                .returning(Contract.id).execution_options(synchronize_session=False)).all()
            for contract in db.session.scalars(
                    select(Contract).where(Contract.org_id == org_id, Contract.id.in_(ids))
                    .options(*routing(org_id)).order_by(Contract.id).execution_options(populate_existing=True)):
                seal_contract(contract, action="expired", actor_id=None,
                              data={"at": now.isoformat()})
        expired += len(ids)
        owners += 1
        if progress and owners % 100 == 0:
            progress(f"contracts expire: {owners} owners, {expired} expired so far")
    if progress:
        progress(f"contracts expire: {owners} owners, {expired} expired")
    return expired
