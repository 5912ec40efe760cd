import marshmallow as ma

from fieldsales.schemas import IdArg, StrictSchema, Timestamp, name_field


class TeamSchema(ma.Schema):
    id = ma.fields.UUID()
    name = ma.fields.String()
    parent_id = ma.fields.UUID(allow_none=True)
    created_at = Timestamp()


class TeamCreateSchema(IdArg):
    name = name_field(required=True)
    parent_id = ma.fields.UUID(allow_none=True)


class TeamPatchSchema(StrictSchema):
    name = name_field()
    parent_id = ma.fields.UUID(allow_none=True, metadata={
        "description": "Move the team under another one; a cycle is 422 team_cycle."})
