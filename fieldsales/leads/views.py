from flask import request

from fieldsales.auth.guard import current
from fieldsales.extensions import Blueprint
from fieldsales.leads import (claims, converting, creating, csv_import, distribute, editing,
                              importing, moves, pools, reading)
from fieldsales.leads.schemas import (AssignSchema, ClaimNextSchema, ConvertResultSchema,
                                      ConvertSchema, DistributedSchema, DistributeSchema,
                                      FollowUpCreateSchema, FollowUpSchema,
                                      ImportResultSchema, LeadCreateSchema, LeadEventSchema,
                                      LeadPatchSchema, LeadQuerySchema, LeadSchema,
                                      MarkDeadSchema, PoolCreateSchema, PoolPatchSchema,
                                      PoolSchema, ReleaseSchema, ReviveSchema)
from fieldsales.openapi import describe, replayed, responds

blp = Blueprint("leads", __name__, url_prefix="/api/v1",
                description="Lead pools (公海) and leads: claim, follow up, convert")

describe("""
### Lead pools

A pool is open to the whole org (`team_id: null`) or to the reps of a team and the teams below
it. Claims (`claim`, `claim-next`) are refused with 422 `holding_limit_reached` when the rep
already holds `holding_limit` claimed leads from the pool, 422 `daily_claim_limit_reached` after
`daily_claim_limit` claims from the pool on the rep's local day (claims count, not holdings:
releasing does not give a claim back; assignments by a manager do not count), 422
`cooldown_active` (with `until`) when the rep released or lost the lead less than
`cooldown_days` ago. Limits hold under any concurrency. A claimed lead with no follow-up for
`recycle_after_days` (counted from its last follow-up or its claim) returns to the pool when
`fieldsales leads recycle` runs; `recycle_warning` turns true `warn_before_days` before.
`assign` respects the holding limit but not the cooldown. Phone and e-mail are masked for
callers who neither hold the lead nor manage its holder; for unowned leads, admins and the
managers of the pool's team read them in full.

A rep may add a lead (`POST /leads`) to a pool open to it: the lead is created claimed by the
rep, within the same holding and daily limits as a claim (same 422s, nothing written). `intent`
(set by the owner or its managers) orders claim-next: hot, then warm, then cold, then unknown
(null), then `none`, before distance (`near`) and age. `revive` puts a dead lead back into a
pool (admins, the pool's managers; 422 `lead_not_dead` otherwise). A pooled lead unclaimed for
the pool's `silent_after_days` since it entered the pool is `silent` (alert `silent_leads`).
""")


# --- pools ------------------------------------------------------------------------------------

@blp.get("/lead-pools")
@blp.response(200, PoolSchema(many=True))
@blp.paginate()
def list_pools(pagination_parameters):
    """List the lead pools the caller can see."""
    return pools.list_pools(principal=current(), page=pagination_parameters)


@blp.post("/lead-pools")
@blp.arguments(PoolCreateSchema)
@blp.response(201, PoolSchema)
@replayed(blp, PoolSchema)
@responds(blp, 403, 409)
def create_pool(data):
    """Create a lead pool (admin; managers for their teams)."""
    pool, created = pools.create_pool(principal=current(), data=data)
    return pool, 201 if created else 200


@blp.get("/lead-pools/<uuid:pool_id>")
@blp.response(200, PoolSchema)
def get_pool(pool_id):
    """Get a lead pool."""
    return pools.get_pool(principal=current(), pool_id=pool_id)


@blp.patch("/lead-pools/<uuid:pool_id>")
@blp.arguments(PoolPatchSchema)
@blp.response(200, PoolSchema)
@responds(blp, 403)
def update_pool(data, pool_id):
    """Rename a pool or change its rules (admin; managers of its team)."""
    return pools.update_pool(principal=current(), pool_id=pool_id, data=data)


@blp.post("/lead-pools/<uuid:pool_id>/import")
@blp.doc(requestBody={"required": True, "content": {"text/csv": {
    "schema": {"type": "string"},
    "example": "name,company,phone,email,address,lat,lng,source,tags\n"
               "Li Na,Jinqiao Foods,138 1234 5678,li@example.com,1 Century Ave,31.23,121.50,"
               "expo,food;new\n"}},
    "description": "UTF-8 (BOM allowed; other encodings via `charset`), at most 5 MB. Header "
                   "`name,company,phone,email,address,lat,lng,source,tags` (any order; `name` "
                   "required); tags separated by `;`; WGS-84 coordinates. A row whose phone or "
                   "company a customer or live lead already holds, or an earlier row has, is "
                   "counted in `duplicates` and not created (not an error line); 409 "
                   "`duplicate_lead` only when a concurrent create took a key mid-import "
                   "(nothing written: send the file again)."})
@blp.response(200, ImportResultSchema)
@responds(blp, 403, 415, "invalid_csv", "duplicate_lead")
def import_leads(pool_id):
    """Import leads from CSV: duplicates (phone or company already held) are counted, bad rows
    listed."""
    request.max_content_length = csv_import.MAX_BYTES  # this body may exceed the JSON limit
    return importing.import_leads(principal=current(), pool_id=pool_id, stream=request.stream,
                                  mimetype=request.mimetype,
                                  charset=request.mimetype_params.get("charset"))


@blp.post("/lead-pools/<uuid:pool_id>/distribute")
@blp.arguments(DistributeSchema)
@blp.response(200, DistributedSchema)
@responds(blp, 403, "pool_empty", "distribution_off", "no_recipients", "holding_limit_reached")
def distribute_leads(data, pool_id):
    """Hand pooled leads (oldest first) to the pool's reps by its assignment strategy, never
    past a holding limit (managers of the pool's team, admin); each move in the ledger."""
    return distribute.distribute(principal=current(), pool_id=pool_id, count=data.get("count"))


@blp.post("/lead-pools/<uuid:pool_id>/claim-next")
@blp.arguments(ClaimNextSchema)
@blp.response(200, LeadSchema)
@responds(blp, 403, "pool_empty", "holding_limit_reached", "daily_claim_limit_reached")
def claim_next(data, pool_id):
    """Claim the nearest (with `near`) or oldest claimable lead; 404 `pool_empty` if none."""
    return claims.claim_next(principal=current(), pool_id=pool_id, near=data.get("near"))


# --- leads ------------------------------------------------------------------------------------

@blp.get("/leads")
@blp.arguments(LeadQuerySchema, location="query")
@blp.response(200, LeadSchema(many=True))
@blp.paginate()
def list_leads(filters, pagination_parameters):
    """Search leads; with `near`, nearest first and each with `distance_m`."""
    return reading.list_leads(principal=current(), filters=filters, page=pagination_parameters)


@blp.post("/leads")
@blp.arguments(LeadCreateSchema)
@blp.response(201, LeadSchema)
@replayed(blp, LeadSchema)
@responds(blp, 403, "duplicate_lead", "duplicate_customer", "holding_limit_reached",
          "daily_claim_limit_reached")
def create_lead(data):
    """Add a lead: admins and managers into a pool they manage; reps into a pool open to them,
    claimed by the rep within its limits. A phone or company already held → 409."""
    lead, created = creating.create_lead(principal=current(), data=data)
    return lead, 201 if created else 200


@blp.get("/leads/<uuid:lead_id>")
@blp.response(200, LeadSchema)
def get_lead(lead_id):
    """Get a lead (phone and e-mail masked unless you hold it or manage its holder)."""
    return reading.get_lead(principal=current(), lead_id=lead_id)


@blp.post("/leads/<uuid:lead_id>/claim")
@blp.response(200, LeadSchema)
@responds(blp, 403, "already_claimed", "lead_closed", "cooldown_active",
          "holding_limit_reached", "daily_claim_limit_reached")
def claim_lead(lead_id):
    """Claim a pooled lead (already yours → 200)."""
    return claims.claim_lead(principal=current(), lead_id=lead_id)


@blp.post("/leads/<uuid:lead_id>/release")
@blp.arguments(ReleaseSchema)
@blp.response(200, LeadSchema)
@responds(blp, 403, "lead_closed", "lead_not_claimed")
def release_lead(data, lead_id):
    """Put a claimed lead back into its pool; the previous holder's cooldown starts."""
    return moves.release_lead(principal=current(), lead_id=lead_id,
                              reason=data.get("reason"))


@blp.post("/leads/<uuid:lead_id>/assign")
@blp.arguments(AssignSchema)
@blp.response(200, LeadSchema)
@responds(blp, 403, "lead_closed", "holding_limit_reached")
def assign_lead(data, lead_id):
    """Give a lead to one of your users (managers, admin); the holding limit applies."""
    return moves.assign_lead(principal=current(), lead_id=lead_id, user_id=data["user_id"])


@blp.get("/leads/<uuid:lead_id>/follow-ups")
@blp.response(200, FollowUpSchema(many=True))
@blp.paginate()
def list_follow_ups(lead_id, pagination_parameters):
    """Follow-ups of a lead, newest first."""
    return reading.list_follow_ups(principal=current(), lead_id=lead_id,
                                   page=pagination_parameters)


@blp.post("/leads/<uuid:lead_id>/follow-ups")
@blp.arguments(FollowUpCreateSchema)
@blp.response(201, FollowUpSchema)
@replayed(blp, FollowUpSchema)
@responds(blp, 403, "lead_closed", "not_lead_owner")
def add_follow_up(data, lead_id):
    """Log a follow-up on a lead you hold; it restarts the recycle clock."""
    follow_up, created = moves.add_follow_up(principal=current(), lead_id=lead_id, data=data)
    return follow_up, 201 if created else 200


@blp.post("/leads/<uuid:lead_id>/convert")
@blp.arguments(ConvertSchema)
@blp.response(201, ConvertResultSchema)
@blp.alt_response(200, schema=ConvertResultSchema,
                  description="A retry of a conversion already made: the stored result.")
@responds(blp, 403, "lead_closed", "lead_not_claimed", "duplicate_customer", "duplicate_lead")
def convert_lead(data, lead_id):
    """Convert a claimed lead into a customer; its follow-ups become contact records."""
    customer, lead, created = converting.convert_lead(principal=current(), lead_id=lead_id,
                                                      data=data)
    return {"customer": customer, "lead": lead}, 201 if created else 200


@blp.post("/leads/<uuid:lead_id>/mark-dead")
@blp.arguments(MarkDeadSchema)
@blp.response(200, LeadSchema)
@responds(blp, 403, "lead_closed")
def mark_dead(data, lead_id):
    """Close a lead that will not buy."""
    return moves.mark_dead(principal=current(), lead_id=lead_id, reason=data["reason"])


@blp.post("/leads/<uuid:lead_id>/revive")
@blp.arguments(ReviveSchema)
@blp.response(200, LeadSchema)
@responds(blp, 403, "lead_not_dead", "duplicate_customer", "duplicate_lead")
def revive_lead(data, lead_id):
    """Put a dead lead back into a pool (admins, the pool's managers); ledger `revived`."""
    return editing.revive_lead(principal=current(), lead_id=lead_id, data=data)


@blp.patch("/leads/<uuid:lead_id>")
@blp.arguments(LeadPatchSchema)
@blp.response(200, LeadSchema)
@responds(blp, 403, "lead_closed", "duplicate_customer", "duplicate_lead")
def update_lead(data, lead_id):
    """Edit a live lead's contact or intent (its owner, the owner's managers)."""
    return editing.update_lead(principal=current(), lead_id=lead_id, data=data)


@blp.get("/leads/<uuid:lead_id>/events")
@blp.response(200, LeadEventSchema(many=True))
@blp.paginate()
def list_events(lead_id, pagination_parameters):
    """The ownership ledger: who held the lead when, and why it moved (oldest first)."""
    return reading.list_events(principal=current(), lead_id=lead_id,
                               page=pagination_parameters)
