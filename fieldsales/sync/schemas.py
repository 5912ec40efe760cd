import marshmallow as ma

from fieldsales.schemas import StrictSchema

MAX_EVENTS = 200


class SyncSchema(StrictSchema):
    events = ma.fields.List(
        # Raw: a malformed event gets its own 422 result instead of failing the whole queue.
        ma.fields.Raw(metadata={"type": "object"}), required=True,
        validate=ma.validate.Length(max=MAX_EVENTS),
        metadata={"description": "Up to 200 events, applied in order, each on its own. Each is "
                                 "{\"type\": \"check_in\" | \"check_out\" | \"follow_up\", ...the "
                                 "single endpoint's body}, plus \"visit_id\" for check_out and "
                                 "\"lead_id\" for follow_up."})


class SyncResultSchema(ma.Schema):
    index = ma.fields.Integer(metadata={"description": "Position of the event in `events`"})
    status = ma.fields.Integer(metadata={"description": "The HTTP status the single endpoint "
                                                        "would have answered"})
    body = ma.fields.Raw(metadata={"description": "Its JSON body: the resource, or the error",
                                   "type": "object"})


class SyncResponseSchema(ma.Schema):
    results = ma.fields.List(ma.fields.Nested(SyncResultSchema))
