import uuid

import marshmallow as ma

from fieldsales.customers.schemas import CustomerCreateSchema, CustomerSchema
from fieldsales.geo import LatLng, LatLngParam, LocationIn
from fieldsales.leads import rules
from fieldsales.leads.models import EVENT_ACTIONS, FOLLOW_UP_METHODS, INTENTS, LEAD_STATUSES
from fieldsales.schemas import IdArg, StrictSchema, Timestamp, name_field

_DAYS = ma.validate.Range(1, 365)
_tags = ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=50)),
                       validate=ma.validate.Length(max=50))


# --- pools ------------------------------------------------------------------------------------

class AssignmentSchema(StrictSchema):
    strategy = ma.fields.String(required=True, validate=ma.validate.OneOf(rules.STRATEGIES),
                                metadata={"enum": list(rules.STRATEGIES), "description": (
        "How POST /lead-pools/{id}/distribute hands out pooled leads: `claim` (it does not; "
        "reps claim), `round_robin` (in turn, resuming where the last call stopped), "
        "`load_balance` (to whoever holds fewest from this pool), `tag_match` (to the rep "
        "sharing most tags with the lead; ties: higher level, then fewer held; leads sharing "
        "no tag with anyone stay pooled)")})


class PoolSchema(ma.Schema):
    id = ma.fields.UUID()
    name = ma.fields.String()
    team_id = ma.fields.UUID(allow_none=True, metadata={
        "description": "null: open to every rep in the org; a team: open to the reps of that "
                       "team and the teams below it"})
    holding_limit = ma.fields.Integer(metadata={"description": "Claimed leads a rep may hold "
                                                               "from this pool at once"})
    daily_claim_limit = ma.fields.Integer(metadata={
        "description": "Claims per rep per local day (claims count, not holdings)"})
    recycle_after_days = ma.fields.Integer(metadata={
        "description": "A claimed lead with no follow-up for this long returns to the pool"})
    warn_before_days = ma.fields.Integer(metadata={
        "description": "recycle_warning turns true this long before recycling"})
    cooldown_days = ma.fields.Integer(metadata={
        "description": "After releasing (or losing) a lead, the rep may not claim it back "
                       "for this long"})
    assignment = ma.fields.Nested(AssignmentSchema)
    silent_after_days = ma.fields.Integer(metadata={
        "description": "A pooled lead nobody claimed for this long is `silent` (alert "
                       "`silent_leads`)"})


class _PoolFields(StrictSchema):
    team_id = ma.fields.UUID(allow_none=True, metadata={
        "description": "null (admin only): the whole org; managers: a team of theirs"})
    holding_limit = ma.fields.Integer(validate=ma.validate.Range(1, 10000),
                                      metadata={"description": "Default 20"})
    daily_claim_limit = ma.fields.Integer(validate=ma.validate.Range(1, 10000),
                                          metadata={"description": "Default 10"})
    recycle_after_days = ma.fields.Integer(validate=_DAYS, metadata={"description": "Default 7"})
    warn_before_days = ma.fields.Integer(validate=ma.validate.Range(0, 364), metadata={
        "description": "Default 1; must be less than recycle_after_days"})
    cooldown_days = ma.fields.Integer(validate=ma.validate.Range(0, 365),
                                      metadata={"description": "Default 3"})
    assignment = ma.fields.Nested(AssignmentSchema, metadata={
        "description": 'Default {"strategy": "claim"}'})
    silent_after_days = ma.fields.Integer(validate=_DAYS, metadata={"description": "Default 14"})


class PoolCreateSchema(_PoolFields, IdArg):
    name = name_field(required=True)


class PoolPatchSchema(_PoolFields):
    name = name_field()


# --- leads ------------------------------------------------------------------------------------

class MaskedString(ma.fields.String):
    """Phone or e-mail: in full only when the service marked the lead `reveal` for the caller;
    masked otherwise (the default), so a forgotten flag can only hide, never leak."""

    def __init__(self, mask, **kwargs):
        super().__init__(**kwargs)
        self.mask = mask

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and not getattr(obj, "reveal", False):
            value = self.mask(value)
        return super()._serialize(value, attr, obj, **kwargs)


class LeadSchema(ma.Schema):
    id = ma.fields.UUID()
    pool_id = ma.fields.UUID()
    name = ma.fields.String()
    company = ma.fields.String(allow_none=True)
    phone = MaskedString(rules.mask_phone, allow_none=True, metadata={
        "description": "Masked (138****5678) unless the caller owns the lead or manages its "
                       "owner (for an unowned lead: admin and managers of the pool's team)"})
    email = MaskedString(rules.mask_email, allow_none=True, metadata={
        "description": "Masked (a***@example.com) under the same rule as phone"})
    address = ma.fields.String(allow_none=True)
    location = ma.fields.Nested(LatLng, allow_none=True, metadata={"description": "WGS-84"})
    source = ma.fields.String(allow_none=True)
    tags = ma.fields.List(ma.fields.String())
    status = ma.fields.String(metadata={"enum": list(LEAD_STATUSES)})
    owner_id = ma.fields.UUID(allow_none=True)
    claimed_at = Timestamp(allow_none=True)
    last_follow_up_at = Timestamp(allow_none=True)
    follow_up_count = ma.fields.Integer()
    recycle_at = Timestamp(allow_none=True, metadata={
        "description": "Claimed leads: last follow-up (or the claim) + the pool's "
                       "recycle_after_days; null otherwise"})
    recycle_warning = ma.fields.Boolean(metadata={
        "description": "True from warn_before_days before recycle_at"})
    converted_customer_id = ma.fields.UUID(allow_none=True)
    intent = ma.fields.String(allow_none=True, metadata={"enum": [*INTENTS, None], "description": (
        "Set by the owner or its managers; claim-next takes hot, then warm, then cold, then "
        "unknown (null), then none")})
    silent = ma.fields.Boolean(metadata={
        "description": "Pooled and unclaimed for the pool's silent_after_days"})
    created_at = Timestamp()
    distance_m = ma.fields.Float(metadata={"description": "Only with `near`: metres from it",
                                           "x_optional": True})


class PhoneField(ma.fields.String):
    """A phone number that normalises (see rules.normalize_phone); blank means none."""

    MAX = 50

    def __init__(self, **kwargs):
        super().__init__(metadata={"maxLength": self.MAX}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if len(value) > self.MAX:
            raise ma.ValidationError(f"Longer than maximum length {self.MAX}.")
        try:
            rules.normalize_phone(value)
        except ValueError as exc:
            raise ma.ValidationError(str(exc)) from None
        return value.strip() or None


class LeadFieldsSchema(StrictSchema):
    """The fields of a new lead: the JSON body of POST /leads and each CSV row."""

    name = name_field(required=True)
    company = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=200))
    phone = PhoneField(allow_none=True)
    email = ma.fields.Email(allow_none=True, validate=ma.validate.Length(max=254))
    address = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))
    location = ma.fields.Nested(LocationIn, allow_none=True, metadata={
        "description": "lat/lng in `crs` (wgs84, gcj02 or bd09); stored as WGS-84 "
                       "(`accuracy_m` is accepted and not stored)"})
    source = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=100))
    tags = _tags


_intent = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(INTENTS),
                          metadata={"enum": [*INTENTS, None]})


class LeadCreateSchema(LeadFieldsSchema, IdArg):
    pool_id = ma.fields.UUID(required=True, metadata={
        "description": "Admins and managers: a pool they manage (the lead is pooled). Reps: a "
                       "pool open to them (the lead is created claimed by the rep, within the "
                       "pool's holding and daily claim limits)"})
    intent = _intent


class LeadPatchSchema(StrictSchema):
    """What the lead's owner or its managers may edit."""

    name = name_field()
    company = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=200))
    phone = PhoneField(allow_none=True)
    email = ma.fields.Email(allow_none=True, validate=ma.validate.Length(max=254))
    address = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))
    intent = _intent


class ReviveSchema(StrictSchema):
    pool_id = ma.fields.UUID(metadata={"description": "Default: the pool it died in"})
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))


class OwnerParam(ma.fields.String):
    """`me` or a user id."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if value == "me":
            return value
        try:
            return uuid.UUID(value)
        except ValueError:
            raise ma.ValidationError("Expected `me` or a user id.") from None


class LeadQuerySchema(StrictSchema):
    pool_id = ma.fields.UUID()
    status = ma.fields.String(validate=ma.validate.OneOf(LEAD_STATUSES))
    owner_id = OwnerParam(metadata={"description": "`me` or a user id"})
    near = LatLngParam(metadata={"description": "LAT,LNG (WGS-84): nearest first, with "
                                                "distance_m; leads without a location are left "
                                                "out"})
    radius_m = ma.fields.Float(validate=ma.validate.Range(1, 1000000), metadata={
        "description": "With near: only leads within this many metres"})
    q = ma.fields.String(validate=ma.validate.Length(min=1, max=200), metadata={
        "description": "Substring of name, company or address; digits also match the phone of "
                       "leads whose phone the caller may read in full"})


class ClaimNextSchema(StrictSchema):
    near = ma.fields.Nested(LocationIn, allow_none=True, metadata={
        "description": "Claim the nearest claimable lead to this point (else the oldest)"})


class ReleaseSchema(StrictSchema):
    reason = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))


class AssignSchema(StrictSchema):
    user_id = ma.fields.UUID(required=True, metadata={
        "description": "A user you manage, to whom the lead's pool is open"})


class MarkDeadSchema(StrictSchema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))


class FollowUpSchema(ma.Schema):
    id = ma.fields.UUID()
    lead_id = ma.fields.UUID()
    user_id = ma.fields.UUID()
    method = ma.fields.String(metadata={"enum": list(FOLLOW_UP_METHODS)})
    note = ma.fields.String()
    next_follow_up_at = Timestamp(allow_none=True)
    created_at = Timestamp()


class FollowUpCreateSchema(IdArg):
    method = ma.fields.String(required=True, validate=ma.validate.OneOf(FOLLOW_UP_METHODS))
    note = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=5000))
    next_follow_up_at = Timestamp(allow_none=True)


class LeadEventSchema(ma.Schema):
    at = Timestamp()
    action = ma.fields.String(metadata={"enum": list(EVENT_ACTIONS)})
    actor_id = ma.fields.UUID(allow_none=True, metadata={"description": "null: the recycle job"})
    from_user_id = ma.fields.UUID(allow_none=True)
    to_user_id = ma.fields.UUID(allow_none=True)
    reason = ma.fields.String(allow_none=True)


class ConvertCustomerSchema(CustomerCreateSchema):
    """A new customer; omitted fields come from the lead (name: its company, else its name;
    phone, address, location, tags; owner: the lead's owner)."""

    name = name_field()


class ConvertSchema(StrictSchema):
    customer_id = ma.fields.UUID(metadata={"description": "An existing customer you can see"})
    customer = ma.fields.Nested(ConvertCustomerSchema, metadata={
        "description": "Or a new customer card (as POST /customers)"})

    @ma.validates_schema
    def exactly_one(self, data, **kwargs):
        if ("customer_id" in data) == ("customer" in data):
            raise ma.ValidationError("Give either customer_id or customer.", "customer_id")


class ConvertResultSchema(ma.Schema):
    customer = ma.fields.Nested(CustomerSchema)
    lead = ma.fields.Nested(LeadSchema)


class ImportErrorSchema(ma.Schema):
    line = ma.fields.Integer(metadata={"description": "Line in the file (the header is line 1)"})
    message = ma.fields.String()


class ImportResultSchema(ma.Schema):
    created = ma.fields.Integer()
    duplicates = ma.fields.Integer(metadata={
        "description": "Rows whose normalised phone or company a customer or live lead of the "
                       "org already holds (or an earlier row has): skipped, not errors"})
    errors = ma.fields.List(ma.fields.Nested(ImportErrorSchema), metadata={
        "description": "Rows not imported, by line (the first 1,000)"})
    errors_total = ma.fields.Integer(metadata={"description": "All rows with errors"})


class DistributeSchema(StrictSchema):
    count = ma.fields.Integer(validate=ma.validate.Range(1, 1000), metadata={
        "description": "At most this many leads, oldest first (default and maximum 1,000)"})


class AssignedSchema(ma.Schema):
    lead_id = ma.fields.UUID()
    user_id = ma.fields.UUID()


class DistributedSchema(ma.Schema):
    assigned = ma.fields.List(ma.fields.Nested(AssignedSchema))
