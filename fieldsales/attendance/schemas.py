import marshmallow as ma

from fieldsales.attendance import rules
from fieldsales.attendance.columns import LANGS
from fieldsales.audit.schemas import AuditEntrySchema
from fieldsales.geo import LatLng
from fieldsales.schemas import Day, StrictSchema, Timestamp
from fieldsales.users.schemas import UserSchema
from fieldsales.visits.flags import ALL_FLAGS
from fieldsales.visits.schemas import VisitSchema


class AttendanceQuerySchema(StrictSchema):
    from_ = Day(data_key="from", required=True, metadata={
        "description": "First local date (YYYY-MM-DD), in each user's own time zone"})
    to = Day(required=True, metadata={
        "description": f"Last local date, included; at most {rules.MAX_DAYS} days after "
                       "`from` counting both (else 422)"})
    team_id = ma.fields.UUID(metadata={
        "description": "Users of this team and the teams below it (a team the caller cannot "
                       "see: 404)"})
    user_id = ma.fields.UUID(metadata={
        "description": "One user, whatever the role (a user the caller cannot see: 404)"})

    @ma.validates_schema
    def _range(self, data, **kwargs):
        if "from_" in data and "to" in data:
            errors = rules.range_errors(data["from_"], data["to"])
            if errors:
                raise ma.ValidationError(errors)


class ExportQuerySchema(AttendanceQuerySchema):
    lang = ma.fields.String(load_default="en", validate=ma.validate.OneOf(LANGS), metadata={
        "description": "Headers in English (default) or Chinese (`zh`); see the response"})


class AttendanceRowSchema(ma.Schema):
    user_id = ma.fields.UUID()
    user_name = ma.fields.String()
    team_id = ma.fields.UUID(allow_none=True)
    date = Day(metadata={"description": "The user's local date"})
    status = ma.fields.String(metadata={
        "enum": list(rules.STATUSES),
        "description": "present: visits, all checked out by the rep; incomplete: a visit "
                       "still open or closed automatically (missing_check_out); absent: a "
                       "workday (org `workdays`) without a visit; off: another day without "
                       "a visit"})
    first_check_in_at = Timestamp(allow_none=True)
    last_check_out_at = Timestamp(allow_none=True, metadata={
        "description": "The last check-out by the rep of the day's visits (automatic closes "
                       "are not check-outs); may fall after midnight"})
    worked_minutes = ma.fields.Integer(metadata={
        "description": "Whole minutes from first_check_in_at to last_check_out_at (travel "
                       "between customers included); 0 without a check-out"})
    visits = ma.fields.Integer(metadata={"description": "Visits checked in that local day"})
    flagged_visits = ma.fields.Integer(metadata={"description": "Of those, visits with a flag"})
    flags = ma.fields.Dict(keys=ma.fields.String(metadata={"enum": list(ALL_FLAGS)}),
                           values=ma.fields.Integer(), metadata={
                               "description": "Visits carrying each flag (flags with none "
                                              "are left out)"})
    daily_report = ma.fields.String(metadata={
        "enum": list(rules.REPORT_STATUSES),
        "description": "The day's daily report: missing when none was saved"})
    plans = ma.fields.Integer(metadata={"description": "Plans for the day (not cancelled)"})
    plans_done = ma.fields.Integer(metadata={"description": "Of those, plans done"})
    late = ma.fields.Boolean(metadata={
        "description": "A workday whose first check-in came after org `work_hours.start` + "
                       "`grace_minutes` on the user's clock (false without a check-in)"})
    left_early = ma.fields.Boolean(metadata={
        "description": "A workday whose last check-out by the rep came before org "
                       "`work_hours.end` on the user's clock (false without a check-out)"})
    outing = ma.fields.Integer(metadata={
        "description": "Visits of the day made on an approved outing (外出): at its customer, "
                       "inside its window"})
    corrected = ma.fields.Boolean(metadata={
        "description": "An approved attendance correction (补卡) covers this day"})


class EvidenceQuerySchema(StrictSchema):
    user_id = ma.fields.UUID(required=True)
    date = Day(required=True, metadata={"description": "The user's local date"})

    @ma.validates("date")
    def _date(self, value, **kwargs):
        if not rules.MIN_DATE <= value <= rules.MAX_DATE:
            raise ma.ValidationError(f"Dates must lie between {rules.MIN_DATE} and "
                                     f"{rules.MAX_DATE}.")


class EvidenceCustomerSchema(ma.Schema):
    id = ma.fields.UUID()
    name = ma.fields.String()
    location = ma.fields.Nested(LatLng, allow_none=True, metadata={
        "description": "WGS-84, as the card reads now (the distance at the visit is in "
                       "check_in.distance_m)"})


class EvidenceVisitSchema(VisitSchema):
    customer = ma.fields.Nested(EvidenceCustomerSchema)


class ChainSchema(ma.Schema):
    head_hash = ma.fields.String(allow_none=True, metadata={
        "description": "Hash of the last entry on the user's chain (null: no entries yet). "
                       "Keep it: entries are only ever appended, so a later verification "
                       "must still find this hash at the same seq."})
    head_seq = ma.fields.Integer(allow_none=True, metadata={"description": "Its seq"})
    verified = ma.fields.Boolean(metadata={
        "description": "Every entry's HMAC-SHA256 recomputed with the server's audit key, and "
                       "every visit and photo digest recomputed from the stored rows, at "
                       "verified_at"})
    entries = ma.fields.Integer(metadata={"description": "Entries verified (the whole chain)"})
    first_bad_seq = ma.fields.Integer(allow_none=True, metadata={
        "description": "The first entry that does not verify (null when verified)"})
    verified_at = Timestamp()


class EvidenceSchema(ma.Schema):
    user = ma.fields.Nested(UserSchema)
    date = Day(metadata={"description": "The user's local date"})
    timezone = ma.fields.String(metadata={
        "description": "The IANA zone the day is read in (the user's, else the org's, else "
                       "UTC)"})
    day_start = Timestamp(metadata={"description": "Start of that local day, in UTC"})
    day_end = Timestamp(metadata={"description": "End of that local day (exclusive), in UTC"})
    attendance = ma.fields.Nested(AttendanceRowSchema, allow_none=True, metadata={
        "description": "The day's attendance row (null for a day that has not begun)"})
    visits = ma.fields.List(ma.fields.Nested(EvidenceVisitSchema), metadata={
        "description": "Visits checked in that local day, in check-in order, with photos and "
                       "the customer"})
    audit = ma.fields.List(ma.fields.Nested(AuditEntrySchema), metadata={
        "description": "Entries on the user's chain written that local day, and every entry "
                       "about those visits and their photos whenever written (e.g. an "
                       "automatic close after midnight), in chain order"})
    chain = ma.fields.Nested(ChainSchema)
    generated_at = Timestamp()
    generated_by = ma.fields.UUID(metadata={"description": "Who asked for the bundle"})
