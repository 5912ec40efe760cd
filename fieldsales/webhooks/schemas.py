import marshmallow as ma

from fieldsales.schemas import StrictSchema, Timestamp
from fieldsales.webhooks.models import EVENTS, STATUSES

_EVENTS_DOC = "Events to receive (see the Webhooks section of the API description)."


def _http_url(value):
    if not value.lower().startswith(("http://", "https://")) or len(value.split("://", 1)[1]) == 0:
        raise ma.ValidationError("Must be an http:// or https:// URL.")


class WebhookCreateSchema(StrictSchema):
    url = ma.fields.String(required=True, validate=[ma.validate.Length(max=2000), _http_url])
    events = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(EVENTS)), required=True,
        validate=ma.validate.Length(min=1, max=len(EVENTS)),
        metadata={"description": _EVENTS_DOC})
    secret = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(min=16, max=200),
        metadata={"description": "HMAC-SHA256 key of X-Fieldsales-Signature; never returned."})


class WebhookSchema(ma.Schema):
    id = ma.fields.UUID()
    url = ma.fields.String()
    events = ma.fields.List(ma.fields.String(metadata={"enum": list(EVENTS)}))
    created_at = Timestamp()


class WebhookDeliverySchema(ma.Schema):
    id = ma.fields.UUID(metadata={"description": "Also sent as X-Fieldsales-Delivery"})
    event = ma.fields.String(metadata={"enum": list(EVENTS)})
    status = ma.fields.String(metadata={"enum": list(STATUSES)})
    attempts = ma.fields.Integer()
    next_attempt_at = Timestamp(metadata={"description": "When a pending delivery is tried next"})
    last_error = ma.fields.String(allow_none=True)
    response_status = ma.fields.Integer(allow_none=True,
                                        metadata={"description": "The receiver's last HTTP status"})
    delivered_at = Timestamp(allow_none=True)
    created_at = Timestamp()
