"""Reading leads: search, one lead, its follow-ups and its ledger; contact details masked
unless the caller may read them (Scope.reveals_lead_contact). Read helpers never commit."""
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm.attributes import set_committed_value

from fieldsales.db import paginate
from fieldsales.extensions import db
from fieldsales.geo import make_point
from fieldsales.leads import rules
from fieldsales.leads.models import Lead, LeadEvent, LeadFollowUp, LeadPool
from fieldsales.scope import Principal


def _load_pools(leads):
    """Attach each lead's pool (one query for the page): serialising recycle_at needs it."""
    if ids := {lead.pool_id for lead in leads}:
        pools = {p.id: p for p in db.session.scalars(select(LeadPool).where(
            LeadPool.id.in_(ids)))}
        for lead in leads:
            set_committed_value(lead, "pool", pools[lead.pool_id])


def reveal(principal, lead):
    """Mark whether the caller reads the contact in full, and hold on to the lead's pool (the
    session keeps objects only weakly; the serialiser needs the pool after we return)."""
    lead.pool  # noqa: B018 (loads it, from the identity map when the service had it)
    lead.reveal = principal.scope.reveals_lead_contact(lead)
    return lead


def _search(stmt, q, revealed):
    like = f"%{q}%"
    matches = [Lead.name.ilike(like), Lead.company.ilike(like), Lead.address.ilike(like)]
    try:
        digits = rules.normalize_phone(q)
    except ValueError:
        digits = None
    if digits:
        # Only where the caller reads the phone anyway: masked leads are no phone book.
        matches.append(and_(revealed, Lead.phone_normalized.contains(digits)))
    return stmt.where(or_(*matches))


def list_leads(*, principal: Principal, filters: dict, page):
    """Visible leads, filtered; with `near`, nearest first with distance_m."""
    scope = principal.scope
    revealed = scope.lead_contact_revealed()
    stmt = select(Lead, revealed.label("reveal")).where(scope.leads())
    if "pool_id" in filters:
        stmt = stmt.where(Lead.pool_id == filters["pool_id"])
    if "status" in filters:
        stmt = stmt.where(Lead.status == filters["status"])
    if "owner_id" in filters:
        owner = principal.id if filters["owner_id"] == "me" else filters["owner_id"]
        stmt = stmt.where(Lead.owner_id == owner)
    if q := filters.get("q"):
        stmt = _search(stmt, q, revealed)
    if "near" in filters:
        point = func.geography(make_point(*filters["near"]))
        geog = func.geography(Lead.geom)
        stmt = stmt.where(Lead.geom.is_not(None))
        if "radius_m" in filters:
            stmt = stmt.where(func.ST_DWithin(geog, point, filters["radius_m"]))
        stmt = stmt.add_columns(func.ST_Distance(geog, point).label("distance_m"))
        stmt = stmt.order_by(geog.op("<->")(point), Lead.id)
    else:
        stmt = stmt.order_by(Lead.created_at.desc(), Lead.id)
    rows = paginate(stmt, page, scalars=False)
    leads = []
    for row in rows:
        lead = row[0]
        lead.reveal = bool(row.reveal)
        if "near" in filters:
            lead.distance_m = round(row.distance_m, 1)
        leads.append(lead)
    _load_pools(leads)
    return leads


def get_lead(*, principal: Principal, lead_id):
    """One visible lead (contact details masked unless the caller may read them)."""
    return reveal(principal, principal.scope.get(Lead, lead_id, principal.scope.leads()))


def list_follow_ups(*, principal: Principal, lead_id, page):
    """Follow-ups of a visible lead, newest first."""
    lead = principal.scope.get(Lead, lead_id, principal.scope.leads())
    stmt = select(LeadFollowUp).where(LeadFollowUp.org_id == principal.org_id,
                                      LeadFollowUp.lead_id == lead.id)
    return paginate(stmt.order_by(LeadFollowUp.created_at.desc(), LeadFollowUp.id), page)


def list_events(*, principal: Principal, lead_id, page):
    """The ownership ledger of a visible lead, oldest first."""
    lead = principal.scope.get(Lead, lead_id, principal.scope.leads())
    stmt = select(LeadEvent).where(LeadEvent.org_id == principal.org_id,
                                   LeadEvent.lead_id == lead.id)
    return paginate(stmt.order_by(LeadEvent.at, LeadEvent.id), page)
