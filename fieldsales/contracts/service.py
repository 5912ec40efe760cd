"""Contracts: list, read, sign (a project not yet won becomes won), edit and terminate. Never
deleted; every change sealed in the owner's audit chain."""
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from fieldsales import audit, idempotency
from fieldsales.contracts.evidence import seal_contract
from fieldsales.contracts.models import Contract, Payment, PaymentPlan
from fieldsales.db import apply_changes, paginate, transaction
from fieldsales.errors import Conflict, Forbidden, NotFound, field_error
from fieldsales.extensions import db
from fieldsales.projects import stages
from fieldsales.projects.models import Project
from fieldsales.scope import Principal

EDITABLE = ("owner_id", "number", "title", "amount", "currency", "signed_on", "start_date",
            "end_date", "remind_days")
_NUMBER_KEY = "uq_contracts_org_id_number"


def list_contracts(*, principal: Principal, filters: dict, page):
    """Contracts of visible customers, newest signed first."""
    stmt = select(Contract).where(principal.scope.contracts()).options(*principal.scope.routing)
    for key in ("customer_id", "project_id", "owner_id", "status"):
        if key in filters:
            stmt = stmt.where(getattr(Contract, key) == filters[key])
    if "ending_before" in filters:
        stmt = stmt.where(Contract.end_date <= filters["ending_before"])
    return paginate(stmt.order_by(Contract.signed_on.desc(), Contract.created_at.desc(),
                                  Contract.id), page)


def get_contract(*, principal: Principal, contract_id, for_update=False) -> Contract:
    """One visible contract."""
    return principal.scope.get(Contract, contract_id, principal.scope.contracts(),
                               for_update=for_update)


def editable(principal: Principal, contract_id) -> Contract:
    """The contract locked for a change by its owner, the owner's managers or an admin."""
    principal.scope.require_writer()
    contract = get_contract(principal=principal, contract_id=contract_id, for_update=True)
    if not principal.scope.manages_user(contract.owner_id):
        raise Forbidden("Only the owner, the owner's managers or an admin may change this "
                        "contract.")
    return contract


def require_not_terminated(contract: Contract):
    if contract.status == "terminated":
        raise Conflict("This contract is terminated.", error="contract_terminated")


def number_taken():
    return Conflict("Another contract of the organisation has this number.",
                    error="contract_number_taken")


def _check_number_free(principal: Principal, number, own_id):
    holder = db.session.scalar(select(Contract.id).where(Contract.org_id == principal.org_id,
                                                         Contract.number == number))
    if holder is not None and holder != own_id:
        raise number_taken()
    return holder


def _customer(principal: Principal, customer_id):
    from fieldsales.customers import service as customers

    try:
        customer = customers.get_customer(principal=principal, customer_id=customer_id)
    except NotFound:
        raise field_error("customer_id", "No such customer.") from None
    if not principal.scope.can_edit_customer(customer):
        raise Forbidden("Only who may edit the customer may sign a contract with it.")
    return customer


def win_project(principal: Principal, contract: Contract):
    """A contract on a project that is not won makes it won (caller's transaction)."""
    project = db.session.scalar(
        select(Project).where(Project.org_id == contract.org_id,
                              Project.id == contract.project_id,
                              Project.customer_id == contract.customer_id)
        .with_for_update(key_share=True))
    if project is None:
        raise field_error("project_id", "No such project of this customer.")
    if project.stage == "won":
        return
    if project.amount is None:
        project.amount = contract.amount
    stages.enter(project, "won", actor_id=principal.id, reason=f"contract {contract.number}")
    project.version += 1
    audit.record(org_id=principal.org_id, user_id=principal.id, actor_id=principal.id,
                 action="project.won", entity_type="project", entity_id=project.id,
                 data={"contract_id": contract.id, "contract_number": contract.number})


def add_contract(principal: Principal, data: dict, **fields) -> Contract:
    """Write a new contract from `fields` (its number checked free, its project won) and seal
    it; `data` is the request (client id, digest). Not committed."""
    if _check_number_free(principal, fields["number"], data.get("id")) is not None:
        raise idempotency.DuplicateId()  # our own id holds the number: a committed retry
    contract = idempotency.stamp(Contract(org_id=principal.org_id, status="active", **fields),
                                 principal=principal, data=data)
    db.session.add(contract)
    db.session.flush()
    if contract.project_id is not None:
        win_project(principal, contract)
    seal_contract(contract, action="signed" if contract.renewal_of_id is None else "renewal",
                  actor_id=principal.id)
    return contract


def _remind(days):
    return sorted(set(days), reverse=True) if days is not None else [90, 30, 7]


def create_contract(*, principal: Principal, data: dict):
    """Sign a contract with a customer the caller may edit. Returns (contract, created)."""
    principal.scope.require_writer()

    def write():
        customer = _customer(principal, data["customer_id"])
        owner_id = data.get("owner_id", principal.id)
        principal.scope.assignable_owner(owner_id, what="contracts")
        return add_contract(
            principal, data, customer_id=customer.id, project_id=data.get("project_id"),
            owner_id=owner_id, number=data["number"], title=data.get("title", ""),
            amount=data["amount"], currency=data.get("currency", "CNY"),
            signed_on=data["signed_on"], start_date=data["start_date"],
            end_date=data.get("end_date"), remind_days=_remind(data.get("remind_days")))

    return unique_number(principal, data, lambda: idempotency.create(
        Contract, principal=principal, data=data, write=write))


def unique_number(principal: Principal, data: dict, create):
    """Run a create; a racing insert of the same number is a 409 (or, for our own id, the
    retry's stored answer)."""
    try:
        return create()
    except IntegrityError as exc:
        if not idempotency.is_unique_violation(exc, _NUMBER_KEY):
            raise
        if data.get("id") and (row := idempotency.replay(Contract, data["id"],
                                                          principal=principal, data=data)):
            return row, False
        raise number_taken() from None


def received_now(contract: Contract):
    """What the payments of a contract add up to, read afresh (after its row lock: the value
    loaded with the row may predate a payment committed while we waited)."""
    return db.session.scalar(select(func.coalesce(func.sum(Payment.amount), 0)).where(
        Payment.org_id == contract.org_id, Payment.contract_id == contract.id))


def planned_total(contract: Contract):
    return db.session.scalar(select(func.coalesce(func.sum(PaymentPlan.amount), 0)).where(
        PaymentPlan.org_id == contract.org_id, PaymentPlan.contract_id == contract.id))


def update_contract(*, principal: Principal, contract_id, data: dict):
    """Edit a contract that is not terminated (owner, its managers, admin)."""
    def write():
        contract = editable(principal, contract_id)
        require_not_terminated(contract)
        if "number" in data:
            _check_number_free(principal, data["number"], contract.id)
        if data.get("owner_id", contract.owner_id) != contract.owner_id:
            principal.scope.assignable_owner(data["owner_id"], what="contracts")
        start = data.get("start_date", contract.start_date)
        end = data.get("end_date", contract.end_date)
        if end is not None and end < start:
            raise field_error("end_date", "Must not be before start_date.")
        if "amount" in data and data["amount"] < max(received_now(contract),
                                                     planned_total(contract)):
            raise field_error("amount", "Must not be below what was received or planned.")
        if "remind_days" in data:
            data["remind_days"] = _remind(data["remind_days"])
        old_owner = contract.owner_id
        changed = apply_changes(contract, data, EDITABLE)
        if changed:
            db.session.flush()
            if old_owner != contract.owner_id:  # the new owner's chain holds it from now on
                audit.record(org_id=contract.org_id, user_id=old_owner, actor_id=principal.id,
                             action="contract.handed_over", entity_type="contract",
                             entity_id=contract.id, data={"to": contract.owner_id})
            seal_contract(contract, action="updated", actor_id=principal.id,
                          data={"changed": sorted(changed)})
        return contract

    try:
        with transaction():
            return write()
    except IntegrityError as exc:
        if idempotency.is_unique_violation(exc, _NUMBER_KEY):
            raise number_taken() from None
        raise


def terminate_contract(*, principal: Principal, contract_id, reason: str):
    """End a contract early; a repeat of the same termination answers it unchanged."""
    with transaction():
        contract = editable(principal, contract_id)
        if contract.status == "terminated" and contract.terminate_reason == reason:
            return contract
        require_not_terminated(contract)
        if contract.status == "renewed":
            raise Conflict("This contract was renewed; terminate its renewal instead.",
                           error="already_renewed")
        contract.status, contract.terminate_reason = "terminated", reason
        contract.terminated_at = datetime.now(UTC)
        db.session.flush()
        seal_contract(contract, action="terminated", actor_id=principal.id)
    return contract
