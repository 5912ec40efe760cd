import marshmallow as ma

from fieldsales.schemas import StrictSchema
from fieldsales.users.schemas import UserSchema


class LoginSchema(StrictSchema):
    email = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=254))
    password = ma.fields.String(required=True, load_only=True,
                                validate=ma.validate.Length(min=1, max=256))


class RefreshSchema(StrictSchema):
    refresh_token = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))


class LogoutSchema(StrictSchema):
    refresh_token = ma.fields.String(
        validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "The login to end. Without it every login of the caller ends."},
    )


class TokenPairSchema(ma.Schema):
    access_token = ma.fields.String()
    refresh_token = ma.fields.String()
    token_type = ma.fields.String(metadata={"enum": ["Bearer"]})
    expires_in = ma.fields.Integer(metadata={"description": "Access token lifetime, seconds"})
    user = ma.fields.Nested(UserSchema)
