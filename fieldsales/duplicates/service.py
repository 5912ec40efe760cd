"""The duplicate guard (撞单) seen from the services: who holds a phone or company name, the 409
a write that collides gets, and GET /duplicates.

The rule itself lives in the database (models.py): services only translate its refusal into
`duplicate_customer` / `duplicate_lead` naming the holder's owner, after the unit of work rolled
back. The keys are computed there too (fs_phone_key, fs_company_key), so lookups bind the raw
text and let PostgreSQL normalise it exactly as the trigger did.
"""
from contextlib import contextmanager

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from fieldsales.customers.models import Customer
from fieldsales.db import violated
from fieldsales.duplicates.models import PartyKey
from fieldsales.errors import Conflict
from fieldsales.extensions import db
from fieldsales.leads import rules
from fieldsales.leads.models import Lead
from fieldsales.scope import Principal
from fieldsales.users.models import User

KEY_TAKEN = "party_keys_taken"
MAX_MATCHES = 20


def _keys(phone, company):
    clauses = []
    if phone:
        clauses.append(and_(PartyKey.kind == "phone", PartyKey.value == func.fs_phone_key(phone)))
    if company:
        clauses.append(and_(PartyKey.kind == "company",
                            PartyKey.value == func.fs_company_key(company)))
    return clauses


def holders(org_id, *, phone=None, company=None, exclude_id=None):
    """Rows (kind, holder type, the holder, its owner or None) holding the keys of `phone` and
    `company` in the org, phone first; `exclude_id` (the row being edited) aside."""
    clauses = _keys(phone, company)
    if not clauses:
        return []
    holder_id = func.coalesce(PartyKey.customer_id, PartyKey.lead_id)
    stmt = (select(PartyKey, Customer, Lead, User)
            .outerjoin(Customer, and_(Customer.org_id == PartyKey.org_id,
                                      Customer.id == PartyKey.customer_id))
            .outerjoin(Lead, and_(Lead.org_id == PartyKey.org_id, Lead.id == PartyKey.lead_id))
            .outerjoin(User, and_(User.org_id == PartyKey.org_id,
                                  User.id == func.coalesce(Customer.owner_id, Lead.owner_id)))
            .where(PartyKey.org_id == org_id, or_(*clauses))
            .order_by(PartyKey.kind.desc(), holder_id).limit(MAX_MATCHES))
    if exclude_id is not None:
        stmt = stmt.where(holder_id != exclude_id)
    return db.session.execute(stmt).all()


def _owner(user):
    return {"id": str(user.id), "name": user.name} if user is not None else None


def conflict(org_id, *, phone=None, company=None, exclude_id=None):
    """The 409 for the first key of phone/company another customer or live lead holds, or
    None."""
    found = holders(org_id, phone=phone, company=company, exclude_id=exclude_id)
    if not found:
        return None
    key, customer, _lead, owner = found[0]
    what = "customer" if customer is not None else "lead"
    field = "phone number" if key.kind == "phone" else "company name"
    return Conflict(f"A {what} with this {field} already exists in your organisation"
                    f"{' (owned by ' + owner.name + ')' if owner is not None else ''}.",
                    error=f"duplicate_{what}", kind=key.kind, owner=_owner(owner))


def check(org_id, *, phone=None, company=None, exclude_id=None):
    """Refuse (409) before writing when phone/company is already held: the common case, with
    the holder named. Races are caught by the trigger (see guarded)."""
    if refusal := conflict(org_id, phone=phone, company=company, exclude_id=exclude_id):
        raise refusal


@contextmanager
def guarded(org_id, keys: dict, exclude_id=None):
    """Translate the trigger's refusal (a concurrent holder won the key) into the 409 naming it.
    `keys` ({phone, company}) may be filled in by the write inside."""
    try:
        yield
    except IntegrityError as exc:
        if not violated(exc, "23505", KEY_TAKEN):
            raise
        db.session.rollback()
        raise (conflict(org_id, exclude_id=exclude_id, **keys) or Conflict(
            "A customer or lead with this phone number or company name already exists in "
            "your organisation.", error="duplicate_lead", kind="phone", owner=None)) from None


def release_lead(lead):
    """Free a lead's keys ahead of its conversion, so the customer it becomes can take them
    (the lead's own conversion must not collide with itself)."""
    db.session.execute(delete(PartyKey).where(PartyKey.org_id == lead.org_id,
                                              PartyKey.lead_id == lead.id))


def _match(principal, key, customer, lead, owner):
    if customer is not None:
        revealed = principal.is_admin or customer.owner_id == principal.id or (
            customer.owner_id is not None and principal.scope.manages_user(customer.owner_id))
        holder, kind, phone = customer, "customer", customer.phone
    else:
        revealed = principal.scope.reveals_lead_contact(lead)
        holder, kind, phone = lead, "lead", lead.phone
    return {"kind": key.kind, "type": kind, "id": holder.id, "name": holder.name,
            "phone": phone if revealed else rules.mask_phone(phone),
            "status": holder.status, "owner": _owner(owner)}


def find(*, principal: Principal, phone=None, company=None):
    """Customers and live leads of the caller's org that a new card with this phone or company
    name would collide with (the app's pre-check before saving)."""
    return [_match(principal, *row) for row in holders(principal.org_id, phone=phone,
                                                        company=company)]
