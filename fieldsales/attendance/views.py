from flask import Response, stream_with_context
from fieldsales.extensions import Blueprint

from fieldsales.attendance import rules, service
from fieldsales.attendance.schemas import (AttendanceQuerySchema, AttendanceRowSchema,
                                           EvidenceQuerySchema, EvidenceSchema)
from fieldsales.openapi import responds
from fieldsales.auth.guard import current

blp = Blueprint("attendance", __name__, url_prefix="/api/v1",
                description="Attendance per user per local day (JSON and CSV) and the "
                            "evidence bundle HR files in a dispute")

_CSV = {"200": {
    "description": "The same rows as GET /attendance, all of them (not paginated), as "
                   "`text/csv; charset=utf-8` starting with a UTF-8 BOM (Excel), sent as a "
                   "download (`Content-Disposition: attachment`) and streamed. Columns: "
                   + ", ".join(rules.CSV_COLUMNS) + ". `flags` reads "
                   "`outside_geofence:2;low_accuracy:1`; times are RFC 3339 UTC; a name "
                   "starting with = + - @ (or tab, CR) is written with a leading apostrophe "
                   "so spreadsheets never run it as a formula.",
    "headers": {"Content-Disposition": {
        "description": "attachment; filename=attendance_FROM_TO.csv",
        "schema": {"type": "string"}}},
    "content": {"text/csv": {"schema": {"type": "string"}}}}}


@blp.get("/attendance")
@blp.arguments(AttendanceQuerySchema, location="query")
@blp.response(200, AttendanceRowSchema(many=True))
@blp.paginate()
@responds(blp, 404)
def list_attendance(filters, pagination_parameters):
    """Attendance rows per user per local date (ordered by date, then user name)."""
    return service.list_attendance(principal=current(), filters=filters,
                                   page=pagination_parameters)


@blp.get("/attendance.csv")
@blp.arguments(AttendanceQuerySchema, location="query")
@blp.doc(responses=_CSV)
@responds(blp, 404)
def attendance_csv(filters):
    """The attendance rows as a CSV download for Excel (streamed, not paginated)."""
    filename, chunks = service.export_csv(principal=current(), filters=filters)
    return Response(stream_with_context(chunks), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@blp.get("/attendance/evidence")
@blp.arguments(EvidenceQuerySchema, location="query")
@blp.response(200, EvidenceSchema)
@responds(blp, 403, 404)
def evidence(args):
    """One user's local day as evidence, with its audit entries and the chain verified now."""
    return service.evidence(principal=current(), user_id=args["user_id"], day=args["date"])
