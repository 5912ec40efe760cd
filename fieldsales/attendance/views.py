from flask import Response, stream_with_context
from fieldsales.extensions import Blueprint

from fieldsales.attendance import export, service
from fieldsales.attendance.columns import COLUMNS
from fieldsales.attendance.export import XLSX_MIMETYPE
from fieldsales.attendance.schemas import (AttendanceQuerySchema, AttendanceRowSchema,
                                           EvidenceQuerySchema, EvidenceSchema,
                                           ExportQuerySchema)
from fieldsales.openapi import responds
from fieldsales.auth.guard import current

blp = Blueprint("attendance", __name__, url_prefix="/api/v1",
                description="Attendance per user per local day (JSON, CSV and the HR "
                            ".xlsx export) and the evidence bundle HR files in a dispute")

_COLUMNS = ", ".join(c.field for c in COLUMNS)
_ZH = "; ".join(f"{c.field} → {c.zh}" for c in COLUMNS)
_DOWNLOAD = {"Content-Disposition": {
    "description": "attachment; filename=attendance_FROM_TO.csv (.xlsx)",
    "schema": {"type": "string"}}}
_CSV = {"200": {
    "description": "The same rows as GET /attendance, all of them (not paginated), as "
                   "`text/csv; charset=utf-8` starting with a UTF-8 BOM (Excel), sent as a "
                   "download (`Content-Disposition: attachment`) and streamed. `lang=en` "
                   "(default): columns " + _COLUMNS + "; `flags` reads "
                   "`outside_geofence:2;low_accuracy:1`; times are RFC 3339 UTC; booleans "
                   "true/false. `lang=zh` (the HR export: hr, admin, managers; 403 for reps): "
                   "the same columns headed in Chinese (" + _ZH + "), times in the user's own "
                   "zone as `2026-11-26 09:30`, the team's name instead of its id, booleans "
                   "是/否. A name starting with = + - @ (or tab, CR) is written with a leading "
                   "apostrophe so spreadsheets never run it as a formula.",
    "headers": _DOWNLOAD,
    "content": {"text/csv": {"schema": {"type": "string"}}}}}
_XLSX = {"200": {
    "description": "The HR export (hr, admin, managers: their teams; 403 for reps): the same "
                   "rows as the CSV in one Excel workbook, headers in `lang`, typed cells: "
                   "date a date, check-in/out a date-time in the user's own zone, counts "
                   "numbers, late / left_early booleans, the team by name. Written in constant "
                   "memory and streamed as a download.",
    "headers": _DOWNLOAD,
    "content": {XLSX_MIMETYPE: {"schema": {"type": "string", "format": "binary"}}}}}


def _download(filename, chunks, mimetype):
    return Response(stream_with_context(chunks), mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


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
@blp.arguments(ExportQuerySchema, location="query")
@blp.doc(responses=_CSV)
@responds(blp, 403, 404)
def attendance_csv(args):
    """The attendance rows as a CSV download for Excel (streamed, not paginated)."""
    filename, chunks = export.export_csv(principal=current(), filters=args,
                                         lang=args["lang"])
    return _download(filename, chunks, "text/csv")


@blp.get("/attendance.xlsx")
@blp.arguments(ExportQuerySchema, location="query")
@blp.doc(responses=_XLSX)
@responds(blp, 403, 404)
def attendance_xlsx(args):
    """The HR export: the attendance rows as an Excel workbook with typed cells (streamed)."""
    filename, chunks = export.export_xlsx(principal=current(), filters=args, lang=args["lang"])
    return _download(filename, chunks, XLSX_MIMETYPE)


@blp.get("/attendance/evidence")
@blp.arguments(EvidenceQuerySchema, location="query")
@blp.response(200, EvidenceSchema)
@responds(blp, 403, 404)
def evidence(args):
    """One user's local day as evidence, with its audit entries and the chain verified now."""
    return service.evidence(principal=current(), user_id=args["user_id"], day=args["date"])
