import marshmallow as ma

from fieldsales.projects.models import STAGES
from fieldsales.schemas import Day, IdArg, StrictSchema, Timestamp, name_field


class ProjectSchema(ma.Schema):
    id = ma.fields.UUID()
    customer_id = ma.fields.UUID()
    name = ma.fields.String()
    stage = ma.fields.String(metadata={"enum": list(STAGES)})
    amount = ma.fields.Float(allow_none=True)
    owner_id = ma.fields.UUID()
    expected_close_date = Day(allow_none=True)
    stage_changed_at = Timestamp()
    won_at = Timestamp(allow_none=True)
    lost_at = Timestamp(allow_none=True)
    lost_reason = ma.fields.String(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()


class StageEventSchema(ma.Schema):
    at = Timestamp()
    from_stage = ma.fields.String(data_key="from", allow_none=True,
                                  metadata={"enum": list(STAGES),
                                            "description": "null on the first event"})
    to_stage = ma.fields.String(data_key="to", metadata={"enum": list(STAGES)})
    actor_id = ma.fields.UUID(data_key="by", allow_none=True,
                              metadata={"description": "Who moved it (null: before history)"})
    reason = ma.fields.String(allow_none=True,
                              metadata={"description": "Why it was lost or reopened"})


def _money(value):
    if value < 0 or value >= 10**12:
        raise ma.ValidationError("Must be between 0 and 999999999999.99.")


# A plain validator rather than Range: apispec would render a Decimal bound as a string.
_amount = ma.fields.Decimal(allow_none=True, places=2, allow_nan=False, validate=_money,
                            metadata={"minimum": 0, "maximum": 999999999999.99})


_reason = ma.fields.String(validate=ma.validate.Length(min=1, max=2000))


class ProjectCreateSchema(IdArg):
    customer_id = ma.fields.UUID(required=True)
    name = name_field(required=True)
    stage = ma.fields.String(validate=ma.validate.OneOf(STAGES),
                             metadata={"description": "`won` needs `amount`, `lost` needs "
                                                      "`lost_reason`"})
    amount = _amount
    lost_reason = _reason
    owner_id = ma.fields.UUID(metadata={"description": "Default: the caller"})
    expected_close_date = Day(allow_none=True)


class ProjectPatchSchema(StrictSchema):
    name = name_field()
    stage = ma.fields.String(
        validate=ma.validate.OneOf(STAGES),
        metadata={"description": "Forward only (409 stage_backwards); `won` needs an amount, "
                                 "`lost` a `lost_reason`; reopening a won or lost project is "
                                 "for the owner's managers and admins, with `reason`"})
    amount = _amount
    lost_reason = _reason
    reason = _reason
    owner_id = ma.fields.UUID()
    expected_close_date = Day(allow_none=True)


class ProjectQuerySchema(StrictSchema):
    customer_id = ma.fields.UUID()
    owner_id = ma.fields.UUID()
    stage = ma.fields.String(validate=ma.validate.OneOf(STAGES))
