import marshmallow as ma

from fieldsales.schemas import IdArg, StrictSchema, Timestamp, name_field, timezone_field
from fieldsales.users.models import ROLES


class UserSchema(ma.Schema):
    id = ma.fields.UUID()
    email = ma.fields.String()
    name = ma.fields.String()
    role = ma.fields.String(metadata={"enum": list(ROLES)})
    team_id = ma.fields.UUID(allow_none=True)
    timezone = ma.fields.String(allow_none=True)
    active = ma.fields.Boolean()
    tags = ma.fields.List(ma.fields.String(), metadata={
        "description": "Matched against leads' tags by a pool's `tag_match` distribution"})
    level = ma.fields.Integer(allow_none=True, metadata={
        "description": "1-10 seniority; breaks `tag_match` ties (higher first)"})
    created_at = Timestamp()


def _tags():
    return ma.fields.List(ma.fields.String(validate=ma.validate.Length(1, 50)),
                          validate=ma.validate.Length(max=20))


def _level():
    return ma.fields.Integer(allow_none=True, validate=ma.validate.Range(1, 10))


class UserCreateSchema(IdArg):
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))
    name = name_field(required=True)
    password = ma.fields.String(required=True, load_only=True,
                                validate=ma.validate.Length(min=8, max=256))
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))
    team_id = ma.fields.UUID(allow_none=True)
    timezone = timezone_field(allow_none=True)
    tags = _tags()
    level = _level()


class UserPatchSchema(StrictSchema):
    name = name_field()
    role = ma.fields.String(validate=ma.validate.OneOf(ROLES))
    team_id = ma.fields.UUID(allow_none=True)
    timezone = timezone_field(allow_none=True)
    active = ma.fields.Boolean(metadata={"description": "false deactivates: all tokens stop "
                                                        "working at once."})
    password = ma.fields.String(load_only=True, validate=ma.validate.Length(min=8, max=256))
    tags = _tags()
    level = _level()


class UserQuerySchema(StrictSchema):
    role = ma.fields.String(validate=ma.validate.OneOf(ROLES))
    team_id = ma.fields.UUID()
    active = ma.fields.Boolean()
    q = ma.fields.String(validate=ma.validate.Length(max=200),
                         metadata={"description": "Substring of name or email"})


class HandoverSchema(StrictSchema):
    to_user_id = ma.fields.UUID(required=True, metadata={
        "description": "An active rep or manager the caller manages (not the user itself)"})


class HandoverResultSchema(ma.Schema):
    customers = ma.fields.Integer(metadata={"description": "Customers whose owner it became"})
    leads = ma.fields.Integer(metadata={"description": "Claimed leads assigned to it "
                                                       "(ledger `assigned`, reason handover)"})
    plans = ma.fields.Integer(metadata={"description": "Plans still planned for today or later"})
    contracts = ma.fields.Integer(metadata={"description": "Active contracts"})
