"""The attendance exports, every one written from columns.COLUMNS: the CSV (`lang=en`, the JSON
row's values as text; `lang=zh`, for HR: Chinese headers, local times, team names) and the
.xlsx for HR (typed cells). Both stream: the CSV batch by batch from a server-side cursor, the
.xlsx written in XlsxWriter's constant-memory mode to a temporary file, then sent in chunks."""
import csv
import io
import os
import tempfile
from datetime import date, datetime

import xlsxwriter
from sqlalchemy import String, and_, case, cast, func, literal, select

from fieldsales.attendance import rules, service
from fieldsales.attendance.columns import COLUMNS
from fieldsales.db import reading, rfc3339
from fieldsales.errors import Forbidden
from fieldsales.scope import Principal
from fieldsales.teams.models import Team
from fieldsales.visits.flags import ALL_FLAGS

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Rows fetched from the server-side cursor at a time.
EXPORT_BATCH = 2000
# Bytes of the finished .xlsx sent per chunk.
FILE_CHUNK = 64 * 1024
# Excel counts days from 1900 and has a phantom 1900-02-29: earlier dates are written as text.
EXCEL_FIRST_DAY = date(1900, 3, 1)
BOOL_TEXT = {"machine": ("true", "false"), "hr": ("是", "否")}


def _safe_cell(text):
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe, so it is
    read as text (OWASP's CSV-injection mitigation). Names come from admins, but are still
    untrusted text once they are in a spreadsheet."""
    return case((func.left(text, 1).in_(rules.FORMULA_START), literal("'") + text),
                else_=text)


def _flags_text(rows):
    """`outside_geofence:2;low_accuracy:1` in ALL_FLAGS order, flags with no visit left out."""
    return func.concat_ws(";", *(
        case((rows.c[f"flag_{flag}"] > 0,
              literal(f"{flag}:") + cast(rows.c[f"flag_{flag}"], String)))
        for flag in ALL_FLAGS))


def _cell(column, rows, team_name, style):
    """The SQL of one cell: text for a CSV ("machine" or "hr"), a typed value for "xlsx"."""
    kind, csv_style = column.kind, style != "xlsx"
    value = rows.c.get(column.field)
    if kind == "id":
        return cast(value, String)
    if kind == "text":
        return _safe_cell(value) if csv_style else value
    if kind == "team":
        if style == "machine":
            return cast(value, String)
        return _safe_cell(team_name) if csv_style else team_name
    if kind == "date":
        return func.to_char(value, "YYYY-MM-DD") if csv_style else value
    if kind == "time":
        if style == "machine":
            return rfc3339(value)
        local = func.date_trunc("second", func.timezone(rows.c.tz, value))
        return func.to_char(local, "YYYY-MM-DD HH24:MI") if csv_style else local
    if kind == "bool":
        if not csv_style:
            return value
        yes, no = BOOL_TEXT[style]
        return case((value, yes), else_=no)
    if kind == "flags":
        return _flags_text(rows)
    return value  # int, word


def export_statement(principal: Principal, people, first, last, style: str):
    """Every row of the range as its cells in COLUMNS order, in the given style."""
    rows = service.range_statement(principal, people, first, last).subquery("r")
    team = and_(Team.org_id == principal.org_id, Team.id == rows.c.team_id)
    return (select(*(_cell(c, rows, Team.name, style) for c in COLUMNS))
            .select_from(rows.outerjoin(Team, team))
            .order_by(*service.row_order(rows.c))
            .execution_options(yield_per=EXPORT_BATCH))


def _batches(stmt):
    """The statement's rows, EXPORT_BATCH at a time from a server-side cursor. Core rows
    straight from the connection: no ORM row processing. Read from the replica when there is
    one (db.reading). The read transaction (and the cursor) ends as soon as the last batch is
    out."""
    with reading() as session:
        try:
            yield from session.connection().execute(stmt).partitions()
        finally:
            session.rollback()


def _prepare(principal, filters, *, hr):
    """(people, first, last) once scope and filters are checked (their errors are JSON). The
    HR formats are for hr, admins and managers (their teams); a rep is refused."""
    if hr and principal.is_rep:
        raise Forbidden("The HR export is for hr, admins and managers; a rep reads its own "
                        "attendance through GET /attendance.")
    return service.people_cte(principal, filters), filters["from_"], filters["to"]


def _filename(filters, ext):
    return f"attendance_{filters['from_'].isoformat()}_{filters['to'].isoformat()}.{ext}"


def export_csv(*, principal: Principal, filters: dict, lang: str = "en"):
    """(filename, chunks): the rows as CSV bytes (UTF-8 with a BOM, for Excel), one chunk per
    batch. lang=en: the JSON row as text; lang=zh: Chinese headers, the user's local times,
    team names (hr, admin, managers). The query runs when the response is sent — Flask ends
    the request's session between the view and the body — so memory stays flat whatever
    the range."""
    machine = lang == "en"
    people, first, last = _prepare(principal, filters, hr=not machine)
    stmt = export_statement(principal, people, first, last, "machine" if machine else "hr")
    header = [c.header(lang, machine=machine) for c in COLUMNS]

    def chunks():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        writer.writerow(header)
        for batch in _batches(stmt):
            writer.writerows(batch)
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
        if buffer.tell():
            yield buffer.getvalue().encode()  # no rows: the header alone

    return _filename(filters, "csv"), chunks()


class _Sheet:
    """Writes typed cells by column kind (a date as a date, a count as a number ...)."""

    def __init__(self, workbook):
        self.sheet = workbook.add_worksheet("Attendance")
        self.header = workbook.add_format({"bold": True})
        self.date = workbook.add_format({"num_format": "yyyy-mm-dd"})
        self.time = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.writers = [getattr(self, f"_{c.kind}", self._text) for c in COLUMNS]

    def _text(self, row, col, value):
        self.sheet.write_string(row, col, value)

    def _moment(self, row, col, value, fmt):
        day = value.date() if isinstance(value, datetime) else value
        if day < EXCEL_FIRST_DAY:
            self.sheet.write_string(row, col, str(value))
        else:
            self.sheet.write_datetime(row, col, value, fmt)

    def _date(self, row, col, value):
        self._moment(row, col, value, self.date)

    def _time(self, row, col, value):
        self._moment(row, col, value, self.time)

    def _int(self, row, col, value):
        self.sheet.write_number(row, col, value)

    def _bool(self, row, col, value):
        self.sheet.write_boolean(row, col, value)

    def write(self, row, values):
        for col, (write, value) in enumerate(zip(self.writers, values, strict=True)):
            if value is not None and value != "":
                write(row, col, value)


def export_xlsx(*, principal: Principal, filters: dict, lang: str = "en"):
    """(filename, chunks): the rows as an .xlsx workbook (hr, admin, managers): typed cells,
    the user's local times, team names, headers in `lang`. Rows go from a server-side cursor
    into XlsxWriter's constant-memory mode (one row in memory, the sheet on disk); the finished
    file is then sent FILE_CHUNK at a time and removed."""
    people, first, last = _prepare(principal, filters, hr=True)
    stmt = export_statement(principal, people, first, last, "xlsx")

    def chunks():
        with tempfile.TemporaryDirectory(prefix="fieldsales-attendance-") as tmp:
            path = os.path.join(tmp, "attendance.xlsx")
            workbook = xlsxwriter.Workbook(path, {"constant_memory": True, "tmpdir": tmp})
            out = _Sheet(workbook)
            out.sheet.freeze_panes(1, 0)
            out.sheet.set_column(0, len(COLUMNS) - 1, 16)
            out.sheet.write_row(0, 0, [c.header(lang) for c in COLUMNS], out.header)
            n = 0
            for batch in _batches(stmt):
                for values in batch:
                    n += 1
                    out.write(n, values)
            out.sheet.autofilter(0, 0, n, len(COLUMNS) - 1)
            workbook.close()
            with open(path, "rb") as f:
                while chunk := f.read(FILE_CHUNK):
                    yield chunk

    return _filename(filters, "xlsx"), chunks()
