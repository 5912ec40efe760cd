"""Converting a claimed lead into a customer (existing or new): its person becomes a contact
and its follow-ups contact records, so the history travels with the lead."""
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fieldsales import idempotency
from fieldsales.customers import service as customers
from fieldsales.customers.models import Contact
from fieldsales.db import transaction
from fieldsales.duplicates import service as duplicates
from fieldsales.errors import IdempotencyConflict, NotFound, field_error
from fieldsales.extensions import db
from fieldsales.leads.guards import closed, lock_lead, not_claimed, require_holder_or_manager
from fieldsales.leads.ledger import add_event, seal_event
from fieldsales.leads.models import LeadFollowUp
from fieldsales.leads.reading import reveal
from fieldsales.scope import Principal


def _already_converted_to(lead, data):
    wanted = data.get("customer_id") or (data.get("customer") or {}).get("id")
    return lead.status == "converted" and wanted == lead.converted_customer_id


def _new_customer(principal, lead, fields, keys):
    data = dict(fields)
    data.setdefault("name", lead.company or lead.name)
    data.setdefault("owner_id", lead.owner_id)
    for key in ("phone", "address"):
        if getattr(lead, key):
            data.setdefault(key, getattr(lead, key))
    if lead.location:
        data.setdefault("location", dict(lead.location))
    if lead.tags:
        data.setdefault("tags", list(lead.tags))
    keys.update(phone=data.get("phone"), company=data["name"])
    duplicates.check(principal.org_id, **keys)
    customer = customers.add_customer(principal=principal, data=data)
    try:
        db.session.flush()
    except IntegrityError as exc:
        if idempotency.is_unique_violation(exc, "pk_customers"):
            raise IdempotencyConflict() from None
        raise
    return customer


def _existing_customer(principal, customer_id):
    try:
        return customers.get_customer(principal=principal, customer_id=customer_id)
    except NotFound:
        raise field_error("customer_id", "No such customer.") from None


def _copy_history(principal, lead, customer):
    """The lead's person becomes a contact and its follow-ups contact records (author and time
    kept)."""
    if lead.company and not db.session.scalar(select(Contact.id).where(
            Contact.org_id == lead.org_id, Contact.customer_id == customer.id,
            Contact.name == lead.name)):
        db.session.add(idempotency.stamp(Contact(
            org_id=lead.org_id, customer_id=customer.id, name=lead.name, phone=lead.phone,
            email=lead.email, title=None), principal=principal,
            data={"lead_id": lead.id, "name": lead.name}))
    follow_ups = db.session.scalars(select(LeadFollowUp).where(
        LeadFollowUp.org_id == lead.org_id, LeadFollowUp.lead_id == lead.id)
        .order_by(LeadFollowUp.created_at, LeadFollowUp.id)).all()
    for follow_up in follow_ups:
        record = customers.add_contact_record(principal=principal, customer=customer, data={
            "method": follow_up.method, "summary": follow_up.note,
            "next_follow_up_at": follow_up.next_follow_up_at, "lead_follow_up_id": follow_up.id})
        record.user_id, record.created_at = follow_up.user_id, follow_up.created_at


def convert_lead(*, principal: Principal, lead_id, data: dict, now=None):
    """Turn a claimed lead into a customer (existing or new); its follow-ups become contact
    records. Returns (customer, lead, created); a retry of the same conversion is not an
    error."""
    now = now or datetime.now(UTC)
    keys = {}  # the new customer's, for the 409 when a concurrent card took them
    with duplicates.guarded(principal.org_id, keys), transaction():
        lead = lock_lead(principal, lead_id)
        principal.scope.require_writer()
        if _already_converted_to(lead, data):
            customer = customers.get_customer(principal=principal,
                                              customer_id=lead.converted_customer_id)
            return customer, reveal(principal, lead), False
        if lead.status in ("converted", "dead"):
            raise closed()
        if lead.status != "claimed":
            raise not_claimed()
        require_holder_or_manager(principal, lead, "convert")
        duplicates.release_lead(lead)  # its phone and company pass to the customer
        if "customer_id" in data:
            customer = _existing_customer(principal, data["customer_id"])
        else:
            customer = _new_customer(principal, lead, data["customer"], keys)
        _copy_history(principal, lead, customer)
        owner = lead.owner_id
        lead.status, lead.converted_customer_id = "converted", customer.id
        event = add_event(lead, "converted", at=now, actor_id=principal.id, from_user_id=owner,
                          reason=f"Converted to customer {customer.id}.")
        seal_event(lead, "converted", event=event, user_id=owner, actor_id=principal.id,
                   customer_id=customer.id)
    return customer, reveal(principal, lead), True
