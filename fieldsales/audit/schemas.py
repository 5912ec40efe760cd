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


class AuditProblemSchema(ma.Schema):
    kind = ma.fields.String(required=True, metadata={
        "description": "entry_tampered | entries_missing | chain_broken | head_missing | "
                       "head_mismatch | checkpoint_truncated | checkpoint_diverged | "
                       "checkpoint_invalid | seal_missing | sealed_row_missing | "
                       "evidence_mismatch"})
    entity_type = ma.fields.String(metadata={
        "description": "visit | photo | daily_report | lead | lead_event, when a row is named"})
    entity_id = ma.fields.UUID()
    seq = ma.fields.Integer(metadata={"description": "The entry concerned (whose chain: "
                                                     "user_id)"})
    user_id = ma.fields.UUID(metadata={"description": "Whose chain"})
    detail = ma.fields.String(required=True)


class VerifySchema(ma.Schema):
    ok = ma.fields.Boolean(required=True)
    entries = ma.fields.Integer(required=True)
    first_bad_seq = ma.fields.Integer(required=True, allow_none=True, metadata={
        "description": "The lowest seq named by a problem (null when none names an entry)"})
    problems = ma.fields.List(ma.fields.Nested(AuditProblemSchema), required=True, metadata={
        "description": "Every problem found (the first 1000; problems_total counts all)"})
    problems_total = ma.fields.Integer()
    first_bad_user_id = ma.fields.UUID(allow_none=True, metadata={
        "description": "Whose chain the first problem naming an entry is on"})
    chains = ma.fields.Integer()
    checkpoint = ma.fields.String(allow_none=True, metadata={
        "description": "The checkpoint the chains were compared with (null: none yet)"})
