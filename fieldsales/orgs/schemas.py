import marshmallow as ma

from fieldsales.approvals.models import KINDS as APPROVAL_KINDS
from fieldsales.customers.models import GRADES
from fieldsales.schemas import StrictSchema, timezone_field

_CADENCE = ("Days between visits per customer grade, default {\"A\": 7, \"B\": 14, \"C\": "
            "30}; a grade left out has no cadence")
_LEVELS = ("How many levels up an approval of each kind climbs (managers of the requester's "
           "team, else of the nearest team above, then the next team up with managers, …, then "
           "admins), default {\"outing\": 1, \"attendance_correction\": 1, \"target_change\": "
           "2}; a kind left out of a change keeps its value")


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
    approval_levels = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(),
                                     metadata={"description": _LEVELS})


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
    approval_levels = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.OneOf(APPROVAL_KINDS)),
        values=ma.fields.Integer(validate=ma.validate.Range(1, 10)),
        metadata={"description": _LEVELS})
