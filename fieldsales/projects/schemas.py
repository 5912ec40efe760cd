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
    created_at = Timestamp()
    updated_at = Timestamp()


def _money(value):
    if value < 0 or value >= 10**12:
        raise ma.ValidationError("Must be between 0 and 999999999999.99.")


# A plain validator rather than Range: apispec would render a Decimal bound as a string.
_amount = ma.fields.Decimal(allow_none=True, places=2, allow_nan=False, validate=_money,
                            metadata={"minimum": 0, "maximum": 999999999999.99})


class ProjectCreateSchema(IdArg):
    customer_id = ma.fields.UUID(required=True)
    name = name_field(required=True)
    stage = ma.fields.String(validate=ma.validate.OneOf(STAGES))
    amount = _amount
    owner_id = ma.fields.UUID(metadata={"description": "Default: the caller"})
    expected_close_date = Day(allow_none=True)


class ProjectPatchSchema(StrictSchema):
    name = name_field()
    stage = ma.fields.String(validate=ma.validate.OneOf(STAGES))
    amount = _amount
    owner_id = ma.fields.UUID()
    expected_close_date = Day(allow_none=True)


class ProjectQuerySchema(StrictSchema):
    customer_id = ma.fields.UUID()
    owner_id = ma.fields.UUID()
    stage = ma.fields.String(validate=ma.validate.OneOf(STAGES))
