import marshmallow as ma

from fieldsales.leads.schemas import FollowUpCreateSchema, FollowUpSchema
from fieldsales.plans.schemas import PlanCreateSchema, PlanSchema
from fieldsales.schemas import ErrorSchema, StrictSchema, Variants
from fieldsales.visits.schemas import CheckInSchema, CheckOutSchema, VisitSchema

MAX_EVENTS = 200
INVALID = "invalid"  # the result type of an event that is not an object or has no known type


def _type(value):
    return ma.fields.String(required=True, validate=ma.validate.OneOf([value]),
                            metadata={"description": "The event type"})


# The events as documented; the service loads each with its single endpoint's schema.
class CheckInEventSchema(CheckInSchema):
    type = _type("check_in")


class CheckOutEventSchema(CheckOutSchema):
    type = _type("check_out")
    visit_id = ma.fields.UUID(required=True, metadata={"description": "The visit to close"})


class FollowUpEventSchema(FollowUpCreateSchema):
    type = _type("follow_up")
    lead_id = ma.fields.UUID(required=True, metadata={"description": "The lead followed up"})


class PlanEventSchema(PlanCreateSchema):
    type = _type("plan")


EVENTS = {"check_in": CheckInEventSchema, "check_out": CheckOutEventSchema,
          "follow_up": FollowUpEventSchema, "plan": PlanEventSchema}


class SyncSchema(StrictSchema):
    events = ma.fields.List(
        # Passed through raw: a malformed event gets its own 422 result instead of failing the
        # whole queue.
        Variants(EVENTS, discriminator="type"), required=True,
        validate=ma.validate.Length(max=MAX_EVENTS),
        metadata={"description": "Up to 200 events, applied in order, each on its own. Each is "
                                 "the single endpoint's body plus its `type` (and `visit_id` "
                                 "for check_out, `lead_id` for follow_up; a `plan` event is "
                                 "the POST /plans body)."})


class _ResultFields(ma.Schema):
    index = ma.fields.Integer(metadata={"description": "Position of the event in `events`"})
    status = ma.fields.Integer(metadata={"description": "The HTTP status the single endpoint "
                                                        "would have answered"})


def _result_type(kind):
    return ma.fields.String(validate=ma.validate.OneOf([kind]), metadata={
        "description": "The event's type (`invalid`: not an object, or no known type)"})


class CheckInResultSchema(_ResultFields):
    type = _result_type("check_in")
    body = Variants({"visit": VisitSchema, "error": ErrorSchema})


class CheckOutResultSchema(_ResultFields):
    type = _result_type("check_out")
    body = Variants({"visit": VisitSchema, "error": ErrorSchema})


class FollowUpResultSchema(_ResultFields):
    type = _result_type("follow_up")
    body = Variants({"follow_up": FollowUpSchema, "error": ErrorSchema})


class PlanResultSchema(_ResultFields):
    type = _result_type("plan")
    body = Variants({"plan": PlanSchema, "error": ErrorSchema})


class InvalidEventResultSchema(_ResultFields):
    type = _result_type(INVALID)
    body = ma.fields.Nested(ErrorSchema)


RESULTS = {"check_in": CheckInResultSchema, "check_out": CheckOutResultSchema,
           "follow_up": FollowUpResultSchema, "plan": PlanResultSchema,
           INVALID: InvalidEventResultSchema}


class SyncResponseSchema(ma.Schema):
    results = ma.fields.List(Variants(RESULTS, discriminator="type"), metadata={
        "description": "One per event, in order: `status` and `body` are what the single "
                       "endpoint would have answered."})
