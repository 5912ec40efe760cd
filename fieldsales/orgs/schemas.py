import marshmallow as ma

from fieldsales.customers.models import GRADES
from fieldsales.schemas import StrictSchema, timezone_field

_CADENCE = ("Days between visits per customer grade, default {\"A\": 7, \"B\": 14, \"C\": "
            "30}; a grade left out has no cadence")


_CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
_WORK_HOURS = ("The working day attendance measures `late` and `left_early` against, read in "
               "each user's own time zone: default {\"start\": \"09:00\", \"end\": "
               "\"18:00\", \"grace_minutes\": 10}")


class WorkHoursSchema(ma.Schema):
    start = ma.fields.String(metadata={"description": "HH:MM, 24-hour local time"})
    end = ma.fields.String(metadata={"description": "HH:MM, after `start` (same day)"})
    grace_minutes = ma.fields.Integer(metadata={
        "description": "A first check-in up to this many minutes after `start` is not late"})


class WorkHoursPatchSchema(StrictSchema):
    # The length too: Python's $ also matches before a final newline ("09:00\n"), which the
    # database's check refuses (a 500); \Z would do, but is no pattern OpenAPI can carry.
    start = ma.fields.String(required=True, validate=[
        ma.validate.Length(equal=5),
        ma.validate.Regexp(_CLOCK, error="Expected HH:MM (00:00 to 23:59).")])
    end = ma.fields.String(required=True, validate=[
        ma.validate.Length(equal=5),
        ma.validate.Regexp(_CLOCK, error="Expected HH:MM (00:00 to 23:59).")])
    grace_minutes = ma.fields.Integer(required=True, strict=True,
                                      validate=ma.validate.Range(0, 240))

    @ma.validates_schema
    def _order(self, data, **kwargs):
        if "start" in data and "end" in data and data["end"] <= data["start"]:
            raise ma.ValidationError("`end` must be after `start` on the same day.", "end")


def _workdays(value):
    if not value or len(set(value)) != len(value):
        raise ma.ValidationError("List each ISO weekday (1=Monday … 7=Sunday) once, at least one.")


class SettingsSchema(ma.Schema):
    timezone = ma.fields.String(metadata={"description": "IANA zone, the default for users"})
    workdays = ma.fields.List(ma.fields.Integer(), metadata={
        "description": "ISO weekday numbers (1=Monday); default [1,2,3,4,5]"})
    geofence_radius_m = ma.fields.Integer(metadata={"description": "default 200"})
    low_accuracy_m = ma.fields.Integer(metadata={"description": "default 100"})
    max_speed_kmh = ma.fields.Integer(metadata={"description": "default 200"})
    min_visit_minutes = ma.fields.Integer(metadata={"description": "default 2"})
    photo_max_mb = ma.fields.Integer(metadata={"description": "default 15"})
    visit_cadence_days = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(),
                                        metadata={"description": _CADENCE})
    work_hours = ma.fields.Nested(WorkHoursSchema, metadata={"description": _WORK_HOURS})


class SettingsPatchSchema(StrictSchema):
    timezone = timezone_field()
    workdays = ma.fields.List(ma.fields.Integer(validate=ma.validate.Range(1, 7)),
                              validate=_workdays)
    geofence_radius_m = ma.fields.Integer(validate=ma.validate.Range(10, 100000))
    low_accuracy_m = ma.fields.Integer(validate=ma.validate.Range(1, 100000))
    max_speed_kmh = ma.fields.Integer(validate=ma.validate.Range(1, 2000))
    min_visit_minutes = ma.fields.Integer(validate=ma.validate.Range(0, 1440))
    photo_max_mb = ma.fields.Integer(validate=ma.validate.Range(1, 100))
    visit_cadence_days = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.OneOf(GRADES)),
        values=ma.fields.Integer(validate=ma.validate.Range(1, 3650)),
        metadata={"description": _CADENCE})
    work_hours = ma.fields.Nested(WorkHoursPatchSchema, metadata={
        "description": _WORK_HOURS + "; all three fields together"})
