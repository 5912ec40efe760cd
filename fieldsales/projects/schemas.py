import marshmallow as ma

from fieldsales.projects.models import STAGES
from fieldsales.schemas import IdArg, StrictSchema, Timestamp, name_field


class ProjectSchema(ma.Schema):
    id = ma.fields.UUID()
    customer_id = ma.fields.UUID()
    name = ma.fields.String()
    stage = ma.fields.String(metadata={"enum": list(STAGES)})
    amount = ma.fields.Float(allow_none=True)
    owner_id = ma.fields.UUID()
    expected_close_date = ma.fields.Date(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()


_amount = ma.fields.Decimal(allow_none=True, places=2, allow_nan=False,
                            validate=ma.validate.Range(0, 999_999_999_999))


class ProjectCreateSchema(IdArg):
    customer_id = ma.fields.UUID(required=True)
    name = name_field(required=True)
    stage = ma.fields.String(validate=ma.validate.OneOf(STAGES))
    amount = _amount
    owner_id = ma.fields.UUID(metadata={"description": "Default: the caller"})
    expected_close_date = ma.fields.Date(allow_none=True)


class ProjectPatchSchema(StrictSchema):
    name = name_field()
    stage = ma.fields.String(validate=ma.validate.OneOf(STAGES))
    amount = _amount
    owner_id = ma.fields.UUID()
    expected_close_date = ma.fields.Date(allow_none=True)


class ProjectQuerySchema(StrictSchema):
    customer_id = ma.fields.UUID()
    owner_id = ma.fields.UUID()
    stage = ma.fields.String(validate=ma.validate.OneOf(STAGES))
