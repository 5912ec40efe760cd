"""Renewing a contract (once: the database holds one renewal per contract) and the list of
contracts due for renewal."""
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from fieldsales import idempotency
from fieldsales.contracts.evidence import seal_contract
from fieldsales.contracts.models import Contract
from fieldsales.contracts.service import (add_contract, editable, require_not_terminated,
                                          unique_number)
from fieldsales.customers.models import Customer
from fieldsales.db import paginate
from fieldsales.errors import Conflict
from fieldsales.extensions import db
from fieldsales.scope import Principal
from fieldsales.timeutil import local_date
from fieldsales.users.models import User


def next_number(number: str) -> str:
    """X → X-R1, X-R1 → X-R2: a renewal's default number."""
    match = re.fullmatch(r"(.*)-R(\d+)", number)
    return f"{match[1]}-R{int(match[2]) + 1}" if match else f"{number}-R1"


def renew(*, principal: Principal, contract_id, data: dict):
    """Renew an active or expired contract into a new one (`renewal_of_id`); the old one
    becomes `renewed`. A second, different renewal is 409 already_renewed. Returns (contract,
    created)."""
    def write():
        old = editable(principal, contract_id)  # concurrent renewals queue here
        if data.get("id") is not None and db.session.scalar(select(Contract.id).where(
                Contract.org_id == principal.org_id, Contract.id == data["id"])) is not None:
            raise idempotency.DuplicateId()
        require_not_terminated(old)
        if old.status == "renewed":
            raise Conflict("This contract was already renewed.", error="already_renewed")
        new = add_contract(
            principal, data, customer_id=old.customer_id, project_id=old.project_id,
            owner_id=old.owner_id, number=data.get("number") or next_number(old.number),
            title=old.title, amount=data.get("amount", old.amount), currency=old.currency,
            signed_on=data.get("signed_on") or local_date(datetime.now(UTC),
                                                           principal.timezone),
            start_date=data["start_date"], end_date=data["end_date"],
            remind_days=list(old.remind_days), renewal_of_id=old.id)
        old.status = "renewed"
        db.session.flush()
        seal_contract(old, action="renewed", actor_id=principal.id,
                      data={"renewal_id": str(new.id)})
        return new

    principal.scope.require_writer()
    return unique_number(principal, data, lambda: idempotency.create(
        Contract, principal=principal, data=data, write=write))


def due_renewals(*, principal: Principal, filters: dict, page):
    """Active contracts ending within `within_days` of the caller's today (or already past
    their end and not yet expired), soonest first, with customer and owner."""
    today = local_date(datetime.now(UTC), principal.timezone)
    stmt = (select(Contract, Customer.name.label("customer_name"),
                   User.name.label("owner_name"))
            .join(Customer, (Customer.org_id == Contract.org_id)
                  & (Customer.id == Contract.customer_id))
            .join(User, (User.org_id == Contract.org_id) & (User.id == Contract.owner_id))
            .where(principal.scope.contracts(), Contract.status == "active",
                   Contract.end_date <= today + timedelta(days=filters.get("within_days", 90)))
            .options(*principal.scope.routing))
    if "owner_id" in filters:
        stmt = stmt.where(Contract.owner_id == filters["owner_id"])
    if "team_id" in filters:
        stmt = stmt.where(Contract.owner_id.in_(principal.scope.member_ids([filters["team_id"]])))
    rows = paginate(stmt.order_by(Contract.end_date, Contract.id), page, scalars=False)
    found = []
    for contract, customer_name, owner_name in rows:
        # Plain attributes for the response only (not mapped, never written).
        contract.customer = {"id": contract.customer_id, "name": customer_name}
        contract.owner = {"id": contract.owner_id, "name": owner_name}
        contract.days_left = (contract.end_date - today).days
        found.append(contract)
    return found
