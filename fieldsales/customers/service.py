"""Customer cards: search (customers/search.py), create, edit with optimistic locking, contacts,
follow-up records and the timeline."""
import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from fieldsales import audit, idempotency
from fieldsales.customers.models import Contact, ContactRecord, Customer
from fieldsales.customers.search import list_customers  # noqa: F401  (the views' entry point)
from fieldsales.db import apply_changes, paginate, transaction
from fieldsales.duplicates import service as duplicates
from fieldsales.errors import Conflict, Forbidden, field_error
from fieldsales.extensions import db
from fieldsales.plans.fulfil import fulfil_call
from fieldsales.scope import Principal
from fieldsales.web import check_if_match


def get_customer(*, principal: Principal, customer_id, for_update=False):
    """One visible customer."""
    return principal.scope.get(Customer, customer_id, principal.scope.customers(),
                               for_update=for_update)


def _resolve_owner(principal, owner_id):
    """The owner a caller may assign: reps only themselves; managers their people; admin any."""
    if owner_id is None:
        return None
    return principal.scope.assignable_owner(owner_id, what="customers")


def _check_team(principal, team_id):
    if team_id is None:
        return
    if principal.is_rep and team_id != principal.team_id:
        raise Forbidden("Reps can only file customers under their own team.")
    if principal.is_manager and team_id not in principal.scope.managed_team_ids:
        raise field_error("team_id", "No such team in your scope.")
    principal.scope.require_team_in_org(team_id)


def _apply_location(customer, data):
    if "location" in data:
        loc = data["location"]
        customer.lat, customer.lng = (loc["lat"], loc["lng"]) if loc else (None, None)


def add_customer(*, principal: Principal, data: dict):
    """Write a new customer card and its audit entry in the caller's transaction (used by
    lead conversion too); not committed."""
    owner_id = data.get("owner_id", principal.id if principal.is_rep else None)
    owner = _resolve_owner(principal, owner_id)
    default_team = owner.team_id if owner else (principal.team_id if principal.is_rep else None)
    team_id = data.get("team_id", default_team)
    _check_team(principal, team_id)
    customer = idempotency.stamp(Customer(
        org_id=principal.org_id, name=data["name"], address=data.get("address"),
        phone=data.get("phone"), geofence_radius_m=data.get("geofence_radius_m"),
        owner_id=owner_id, team_id=team_id, tags=data.get("tags", []),
        status=data.get("status", "active"), custom=data.get("custom", {}),
        grade=data.get("grade"), version=1,
    ), principal=principal, data=data)
    _apply_location(customer, data)
    db.session.add(customer)
    audit.record(org_id=principal.org_id, user_id=principal.id, actor_id=principal.id,
                 action="customer.created", entity_type="customer", entity_id=customer.id,
                 data={"name": customer.name, "owner_id": owner_id})
    return customer


def create_customer(*, principal: Principal, data: dict):
    """Create a customer card. Returns (customer, created)."""
    principal.scope.require_writer()
    keys = {"phone": data.get("phone"), "company": data["name"]}

    def write():
        duplicates.check(principal.org_id, exclude_id=data.get("id"), **keys)
        return add_customer(principal=principal, data=data)

    try:
        with duplicates.guarded(principal.org_id, keys, exclude_id=data.get("id")):
            return idempotency.create(Customer, principal=principal, data=data, write=write)
    except Conflict:
        # The same create sent twice at once: the copy that lost the race for the phone or
        # name keys (before the primary key) answers as a retry, from the stored row.
        if (stored := idempotency.replay(Customer, data.get("id"), principal=principal,
                                         data=data)) is not None:
            return stored, False
        raise


def update_customer(*, principal: Principal, customer_id, data: dict, if_match: str | None):
    """Edit a customer (owner, its managers, admin); a stale If-Match is 412; a phone or name
    another customer or live lead holds is 409."""
    keys = {"phone": data.get("phone"), "company": data.get("name")}
    with duplicates.guarded(principal.org_id, keys, exclude_id=customer_id), transaction():
        customer = get_customer(principal=principal, customer_id=customer_id, for_update=True)
        if not principal.scope.can_edit_customer(customer):
            raise Forbidden("Only the owner, the owner's managers or an admin may edit this "
                            "customer.")
        check_if_match(customer, if_match)
        duplicates.check(principal.org_id, exclude_id=customer.id, **keys)
        if "owner_id" in data and data["owner_id"] != customer.owner_id:
            if principal.is_rep:
                raise Forbidden("Reps cannot reassign customers.")
            _resolve_owner(principal, data["owner_id"])
        if "team_id" in data and data["team_id"] != customer.team_id:
            _check_team(principal, data["team_id"])
        changed = apply_changes(customer, data, ("name", "address", "phone", "geofence_radius_m",
                                                 "owner_id", "team_id", "tags", "status", "custom",
                                                 "grade"))
        if "location" in data and data["location"] != customer.location:
            _apply_location(customer, data)
            changed["location"] = data["location"]
        if changed:
            customer.version += 1
            audit.record(org_id=principal.org_id, user_id=principal.id, actor_id=principal.id,
                         action="customer.updated", entity_type="customer", entity_id=customer.id,
                         data=changed)
    return customer


# --- contacts and contact records ------------------------------------------------------------

def list_contacts(*, principal: Principal, customer_id, page):
    """Contacts of a visible customer."""
    customer = get_customer(principal=principal, customer_id=customer_id)
    stmt = select(Contact).where(Contact.org_id == principal.org_id,
                                 Contact.customer_id == customer.id)
    return paginate(stmt.order_by(Contact.name, Contact.id), page)


def create_contact(*, principal: Principal, customer_id, data: dict):
    """Add a contact person to a visible customer. Returns (contact, created)."""
    customer = get_customer(principal=principal, customer_id=customer_id)
    principal.scope.require_writer()
    data = {**data, "customer_id": customer.id}  # the same id under another customer: 409

    def write():
        contact = idempotency.stamp(Contact(
            org_id=principal.org_id, customer_id=customer.id, name=data["name"],
            title=data.get("title"), phone=data.get("phone"), email=data.get("email"),
        ), principal=principal, data=data)
        db.session.add(contact)
        audit.record(org_id=principal.org_id, user_id=principal.id, actor_id=principal.id,
                     action="contact.created", entity_type="contact", entity_id=contact.id,
                     data={"customer_id": customer.id, "name": contact.name})
        return contact

    return idempotency.create(Contact, principal=principal, data=data, write=write)


def list_contact_records(*, principal: Principal, customer_id, page):
    """Follow-up log of a visible customer, newest first."""
    customer = get_customer(principal=principal, customer_id=customer_id)
    stmt = select(ContactRecord).where(ContactRecord.org_id == principal.org_id,
                                       ContactRecord.customer_id == customer.id)
    return paginate(stmt.order_by(ContactRecord.created_at.desc(), ContactRecord.id), page)


def add_contact_record(*, principal: Principal, customer, data: dict, visit_id=None):
    """Write a contact record in the caller's transaction (used by lead conversion too); not
    committed."""
    record = new_contact_record(principal=principal, customer=customer, data=data,
                                visit_id=visit_id)
    db.session.add(record)
    return record


def new_contact_record(*, principal: Principal, customer, data: dict, visit_id=None):
    """A contact record and its audit entry, for the caller to store in its own statement
    (check-out writes it with the visit)."""
    record = ContactRecord(
        org_id=principal.org_id, customer_id=customer.id, user_id=principal.id,
        method=data["method"], contact_id=data.get("contact_id"), visit_id=visit_id,
        summary=data["summary"], outcome=data.get("outcome"),
        next_follow_up_at=data.get("next_follow_up_at"),
    )
    idempotency.stamp(record, principal=principal, data=data)
    audit.record(org_id=principal.org_id, user_id=principal.id, actor_id=principal.id,
                 action="contact_record.created", entity_type="contact_record",
                 entity_id=record.id,
                 data={"customer_id": customer.id, "method": record.method,
                       "visit_id": visit_id})
    return record


def create_contact_record(*, principal: Principal, customer_id, data: dict):
    """Log a follow-up on a visible customer. Returns (record, created)."""
    customer = get_customer(principal=principal, customer_id=customer_id)
    principal.scope.require_writer()
    data = {**data, "customer_id": customer.id}  # the same id under another customer: 409

    def write():
        if data.get("contact_id") and db.session.scalar(
            select(Contact.id).where(Contact.org_id == principal.org_id,
                                     Contact.customer_id == customer.id,
                                     Contact.id == data["contact_id"])
        ) is None:
            raise field_error("contact_id", "No such contact on this customer.")
        record_id = data.get("id") or uuid.uuid4()
        fulfil_call(principal, at=datetime.now(UTC), customer_id=customer.id,
                    contact_record_id=record_id)
        return add_contact_record(principal=principal, customer=customer,
                                  data={**data, "id": record_id})

    return idempotency.create(ContactRecord, principal=principal, data=data, write=write)


def customer_timeline(*, principal: Principal, customer_id, page):
    """The customer's visits, follow-ups, projects, contracts and payments, newest first."""
    from fieldsales.customers.timeline import timeline

    customer = get_customer(principal=principal, customer_id=customer_id)
    return timeline(principal=principal, customer_id=customer.id, page=page)
