import marshmallow as ma

from fieldsales.schemas import StrictSchema, Timestamp
from fieldsales.timeutil import TimeOrDate


class AuditEntrySchema(ma.Schema):
    id = ma.fields.UUID()
    user_id = ma.fields.UUID(metadata={"description": "Whose chain"})
    seq = ma.fields.Integer()
    at = Timestamp()
    actor_id = ma.fields.UUID(allow_none=True, metadata={"description": "null: the system"})
    action = ma.fields.String()
    entity_type = ma.fields.String()
    entity_id = ma.fields.UUID(allow_none=True)
    data = ma.fields.Dict()
    prev_hash = ma.fields.String()
    hash = ma.fields.String()


class AuditQuerySchema(StrictSchema):
    user_id = ma.fields.UUID()
    entity_type = ma.fields.String(validate=ma.validate.Length(max=50))
    entity_id = ma.fields.UUID()
    from_ = TimeOrDate(data_key="from", metadata={
        "description": "RFC 3339 time, or a date: the start of that local day"})
    to = TimeOrDate(metadata={"description": "RFC 3339 time, or a date: the end of that "
                                             "local day"})


class VerifyQuerySchema(StrictSchema):
    user_id = ma.fields.UUID(metadata={"description": "One chain; default: every chain of "
                                                      "the org"})


class VerifySchema(ma.Schema):
    ok = ma.fields.Boolean()
    entries = ma.fields.Integer()
    first_bad_seq = ma.fields.Integer(allow_none=True)
    first_bad_user_id = ma.fields.UUID(allow_none=True, metadata={
        "description": "Whose chain breaks first (when verifying every chain)"})
    chains = ma.fields.Integer()
