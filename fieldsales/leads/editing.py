"""Editing a live lead (its contact and its intent) and reviving a dead one. Both may give the lead
keys of the duplicate guard, so both answer 409 duplicate_* when another holder has them."""
from datetime import UTC, datetime

from fieldsales import audit
from fieldsales.db import apply_changes, transaction
from fieldsales.duplicates import service as duplicates
from fieldsales.errors import Forbidden, Unprocessable, field_error
from fieldsales.extensions import db
from fieldsales.leads import rules
from fieldsales.leads.guards import lock_lead, lock_open_lead, require_owner_side
from fieldsales.leads.ledger import add_event, seal_event
from fieldsales.leads.pools import managed_pool
from fieldsales.leads.reading import reveal
from fieldsales.scope import Principal

EDITABLE = ("name", "company", "phone", "email", "address", "intent")


def update_lead(*, principal: Principal, lead_id, data: dict):
    """Edit a live lead's contact or intent (its owner, the owner's managers; a pooled lead: the
    pool's managers)."""
    keys = {"phone": data.get("phone"), "company": data.get("company")}
    with duplicates.guarded(principal.org_id, keys, exclude_id=lead_id), transaction():
        lead = lock_open_lead(principal, lead_id)
        require_owner_side(principal, lead, "edit")
        duplicates.check(principal.org_id, exclude_id=lead.id, **keys)
        changed = apply_changes(lead, data, EDITABLE)
        if "phone" in changed:
            lead.phone_normalized = rules.normalize_phone(lead.phone)
        if changed:
            db.session.flush()
            audit.record(org_id=principal.org_id, user_id=principal.id, actor_id=principal.id,
                         action="lead.updated", entity_type="lead", entity_id=lead.id,
                         data=changed)
    return reveal(principal, lead)


def revive_lead(*, principal: Principal, lead_id, data: dict, now=None):
    """Put a dead lead back into a pool (its own, or `pool_id`): admins and the managers of
    that pool; ledger `revived`."""
    now = now or datetime.now(UTC)
    with duplicates.guarded(principal.org_id, {}, exclude_id=lead_id), transaction():
        lead = lock_lead(principal, lead_id)
        principal.scope.require_role("admin", "manager")
        if "pool_id" in data:
            pool = managed_pool(principal, data["pool_id"],
                                missing=field_error("pool_id", "No such pool."))
        elif principal.scope.can_manage_pool(lead.pool):
            pool = lead.pool
        else:
            raise Forbidden("Only admins and the managers of the pool's team may revive its "
                            "leads.")
        if lead.status != "dead":
            raise Unprocessable("Only a dead lead can be revived.", error="lead_not_dead")
        duplicates.check(principal.org_id, phone=lead.phone, company=lead.company,
                         exclude_id=lead.id)
        lead.status, lead.owner_id, lead.claimed_at, lead.pool_id = "pooled", None, None, pool.id
        db.session.flush()
        db.session.expire(lead, ["pool"])
        event = add_event(lead, "revived", at=now, actor_id=principal.id, reason=data["reason"])
        seal_event(lead, "revived", event=event, user_id=principal.id, actor_id=principal.id,
                   reason=data["reason"])
    return reveal(principal, lead)
