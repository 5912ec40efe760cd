"""POST /sync: an offline phone's queue, applied event by event.

Each event goes through the same schema and service function as its single endpoint, in its own
transaction (one failing does not undo the others), and is idempotent the way that endpoint is
(client ids for creates, the same-body rule for check-outs).

Event types are a dispatch table; a new type is one entry.
"""
import logging
from collections.abc import Callable
from dataclasses import dataclass

import marshmallow as ma

from fieldsales.errors import DomainError, Unprocessable, render_domain_error
from fieldsales.extensions import db
from fieldsales.leads import moves as leads
from fieldsales.leads.schemas import FollowUpCreateSchema, FollowUpSchema
from fieldsales.plans import service as plans
from fieldsales.plans.schemas import PlanCreateSchema, PlanSchema
from fieldsales.scope import Principal
from fieldsales.sync.schemas import INVALID
from fieldsales.visits import service as visits
from fieldsales.visits.schemas import CheckInSchema, CheckOutSchema, VisitSchema

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventType:
    schema: type[ma.Schema]  # the single endpoint's body schema
    output: type[ma.Schema]  # the single endpoint's response schema
    apply: Callable  # service function(*, principal, data[, <parent>]) -> (row, created) | row
    parent: str | None = None  # the path id of the single endpoint, carried in the event


def _check_out(*, principal, visit_id, data):
    return visits.check_out(principal=principal, visit_id=visit_id, data=data), False


EVENT_TYPES = {
    "check_in": EventType(CheckInSchema, VisitSchema, visits.check_in),
    "check_out": EventType(CheckOutSchema, VisitSchema, _check_out, "visit_id"),
    "follow_up": EventType(FollowUpCreateSchema, FollowUpSchema, leads.add_follow_up, "lead_id"),
    "plan": EventType(PlanCreateSchema, PlanSchema, plans.create_plan),
}


def _error(exc: DomainError):
    response, status, _ = render_domain_error(exc)
    return status, response.get_json()


def _validation_error(messages):
    return _error(Unprocessable("The event is not valid; see `errors`.",
                                error="validation_error", errors={"json": messages}))


def apply_event(principal: Principal, event) -> tuple[int, dict]:
    """(status, body) of one event, as its single endpoint would answer."""
    if not isinstance(event, dict):
        return _validation_error({"_schema": ["Each event must be an object."]})
    kind = event.get("type")
    if kind not in EVENT_TYPES:
        return _validation_error({"type": [f"Must be one of: {', '.join(EVENT_TYPES)}."]})
    spec = EVENT_TYPES[kind]
    body = {k: v for k, v in event.items() if k not in ("type", spec.parent)}
    kwargs = {}
    if spec.parent:
        try:
            kwargs[spec.parent] = ma.fields.UUID(required=True).deserialize(event.get(spec.parent))
        except ma.ValidationError as exc:
            return _validation_error({spec.parent: exc.messages})
    try:
        data = spec.schema().load(body)
    except ma.ValidationError as exc:
        return _validation_error(exc.messages)
    result = spec.apply(principal=principal, data=data, **kwargs)
    row, created = result if isinstance(result, tuple) else (result, False)
    return (201 if created else 200), spec.output().dump(row)


def _type_of(event):
    kind = event.get("type") if isinstance(event, dict) else None
    return kind if isinstance(kind, str) and kind in EVENT_TYPES else INVALID


def sync(*, principal: Principal, events: list) -> list[dict]:
    """Apply the events in order, each in its own transaction; one result per event."""
    results = []
    for index, event in enumerate(events):
        try:
            status, body = apply_event(principal, event)
        except DomainError as exc:
            db.session.rollback()
            status, body = _error(exc)
        except Exception:
            # An unexpected failure of one event must not lose the rest of the queue.
            db.session.rollback()
            log.exception("sync event %s failed", index)
            status, body = 500, {"code": 500, "status": "Internal Server Error",
                                 "message": "Internal error; it has been logged.",
                                 "error": "internal_error"}
        results.append({"index": index, "status": status, "type": _type_of(event),
                        "body": body})
    return results
