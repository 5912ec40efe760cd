"""Fields and schemas shared by every domain."""

import marshmallow as ma

from fieldsales.timeutil import check_calendar, iso_utc


class Timestamp(ma.fields.AwareDateTime):
    """RFC 3339 with an offset on input (naive times are rejected); UTC with `Z` on output."""

    def __init__(self, **kwargs):
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return check_calendar(super()._deserialize(value, attr, data, **kwargs))

    def _serialize(self, value, attr, obj, **kwargs):
        return iso_utc(value)


class Day(ma.fields.Date):
    """A date (YYYY-MM-DD) within the calendar API.md allows (1900-01-01 … 2199-12-31)."""

    def _deserialize(self, value, attr, data, **kwargs):
        return check_calendar(super()._deserialize(value, attr, data, **kwargs))


class StrictSchema(ma.Schema):
    """Input schema: unknown fields are an error, so nobody can set `role`, `org_id`, `owner_id`
    or `flags` by slipping them into a body where they are not documented."""

    class Meta:
        unknown = ma.RAISE


class ErrorSchema(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE  # domain errors may add fields (e.g. `until`, `retry_after_s`)

    code = ma.fields.Integer(metadata={"description": "HTTP status code"})
    status = ma.fields.String(metadata={"description": "HTTP status name"})
    message = ma.fields.String(metadata={"description": "What went wrong, for people"})
    error = ma.fields.String(metadata={"description": "snake_case error code, for programs "
                                                     "(absent on some framework errors)",
                                      "x_optional": True})
    errors = ma.fields.Dict(metadata={"description": "Per-field messages (validation errors)",
                                      "x_optional": True})


class Variants(ma.fields.Raw):
    """A value that is one of several schemas, passed through as it is (so that one malformed
    item can get its own error). Documented as a `oneOf` told apart by the `discriminator`
    property (each variant gives it a single value), or as an `anyOf` without one."""

    def __init__(self, variants: dict, discriminator: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.variants = variants
        self.discriminator = discriminator


class IdArg(StrictSchema):
    id = ma.fields.UUID(
        metadata={"description": "Optional client-generated id: a retry with the same id and "
                                 "body returns 200 and the stored resource; a different body "
                                 "returns 409 idempotency_conflict."}
    )


def name_field(**kwargs):
    return ma.fields.String(validate=ma.validate.Length(min=1, max=200), **kwargs)


def timezone_field(**kwargs):
    return ma.fields.String(validate=validate_timezone, **kwargs)


def validate_timezone(value):
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ma.ValidationError("Not a known IANA time zone (e.g. Asia/Shanghai).") from None
