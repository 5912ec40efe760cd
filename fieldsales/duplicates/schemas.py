import marshmallow as ma

from fieldsales.duplicates.models import KINDS
from fieldsales.leads.schemas import PhoneField
from fieldsales.schemas import StrictSchema


class DuplicateQuerySchema(StrictSchema):
    phone = PhoneField()  # any spelling: +86, 0086, spaces, dashes
    company = ma.fields.String(validate=ma.validate.Length(min=1, max=200), metadata={
        "description": "Compared without case, width or extra spaces"})

    @ma.validates_schema
    def phone_or_company(self, data, **kwargs):
        if not data.get("phone") and not data.get("company"):
            raise ma.ValidationError("Give `phone`, `company` or both.", "phone")


class OwnerSchema(ma.Schema):
    id = ma.fields.UUID()
    name = ma.fields.String()


class DuplicateSchema(ma.Schema):
    kind = ma.fields.String(metadata={"enum": list(KINDS), "description": "Which key matched"})
    type = ma.fields.String(metadata={"enum": ["customer", "lead"]})
    id = ma.fields.UUID()
    name = ma.fields.String()
    phone = ma.fields.String(allow_none=True, metadata={
        "description": "Masked (138****5678) unless the caller owns the holder or manages its "
                       "owner, as for leads"})
    status = ma.fields.String()
    owner = ma.fields.Nested(OwnerSchema, allow_none=True)
