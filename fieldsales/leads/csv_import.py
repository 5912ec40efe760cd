"""Reading a lead CSV row by row (the body is streamed, never held whole): header checks, one
validated payload or one error message per line. No database here; leads/importing.py streams
the rows into PostgreSQL and checks them there.

Format: UTF-8 (a BOM is fine; another encoding via `Content-Type: text/csv; charset=gbk`),
header `name,company,phone,email,address,lat,lng,source,tags` in any order (only `name` is
required; unknown columns are refused so a typo cannot silently drop a column), tags separated
by `;` or `|`, coordinates WGS-84.
"""
import codecs
import csv
import io
from collections.abc import Iterator

import marshmallow as ma

from fieldsales.errors import UnsupportedMediaType, field_error
from fieldsales.textguard import cell_problem

COLUMNS = ("name", "company", "phone", "email", "address", "lat", "lng", "source", "tags")
MAX_BYTES = 5 * 1024 * 1024
MEDIA_TYPES = ("text/csv",)


def text_stream(stream, *, mimetype: str, charset: str | None) -> io.TextIOBase:
    """The request body as text, decoded as it is read (415 for another media type or an
    unknown charset)."""
    if mimetype not in MEDIA_TYPES:
        raise UnsupportedMediaType("Send the leads as text/csv.")
    encoding = (charset or "utf-8").lower()
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise UnsupportedMediaType(f"Unknown charset {charset!r}.") from None
    if encoding in ("utf-8", "utf8"):
        encoding = "utf-8-sig"  # Excel writes a BOM
    # newline="" is what the csv module needs to read quoted line breaks correctly.
    return io.TextIOWrapper(stream, encoding=encoding, newline="")


def _header(reader) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        raise field_error("csv", "The file is empty; expected a header line.",
                          error="invalid_csv") from None
    header = [h.strip().lower() for h in header]
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise field_error("csv", f"Unknown column(s) {', '.join(map(repr, unknown))}; "
                          f"expected {','.join(COLUMNS)}.", error="invalid_csv")
    if "name" not in header or len(set(header)) != len(header):
        raise field_error("csv", "The header needs a `name` column and no column twice.",
                          error="invalid_csv")
    return header


def _payload(cells: dict) -> dict:
    data = {k: v.strip() for k, v in cells.items() if k not in ("lat", "lng", "tags") and v
            and v.strip()}
    lat, lng = (cells.get("lat") or "").strip(), (cells.get("lng") or "").strip()
    if lat or lng:
        data["location"] = {"lat": lat or None, "lng": lng or None}
    tags = (cells.get("tags") or "").replace("|", ";")
    if tags.strip():
        data["tags"] = [t.strip() for t in tags.split(";") if t.strip()]
    return data


def _message(errors: dict, prefix="") -> str:
    parts = []
    for field, value in errors.items():
        name = field if field != "location" else ""
        label = f"{prefix}{name}"
        if isinstance(value, dict):
            parts.append(_message(value, f"{label}." if label else ""))
        else:
            text = " ".join(str(v) for v in value)
            if "Field may not be null" in text:
                text = "Give both lat and lng, or neither."
            elif "Missing data" in text:
                text = "Required."
            parts.append(f"{label}: {text}")
    return "; ".join(parts)


def records(text: io.TextIOBase) -> tuple[list[str], Iterator[tuple[int, list[str] | None,
                                                                   str | None]]]:
    """The header, then (line, cells, None) for each non-blank row (cells stripped, one per
    header column) or (line, None, message) for a row that is not even a row: bad CSV, too
    many fields, a NUL character (PostgreSQL cannot store one). `line` is where the row starts
    in the file (the header is line 1)."""
    reader = csv.reader(text)
    header = _header(reader)
    width = len(header)

    def rows():
        previous_end = reader.line_num
        while True:
            line = previous_end + 1
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                previous_end = reader.line_num
                yield line, None, f"Not valid CSV: {exc}."
                continue
            previous_end = reader.line_num
            cells = [cell.strip() for cell in record]
            if not any(cells):
                continue
            if len(cells) > width:
                yield line, None, f"{len(cells)} fields, but the header has {width}."
            elif bad := next((f"{name}: {why}" for name, cell in zip(header, cells, strict=False)
                              if (why := cell_problem(cell))), None):
                yield line, None, bad
            else:
                cells.extend([""] * (width - len(cells)))
                yield line, cells, None

    return header, rows()


def load_row(cells: dict, schema: ma.Schema) -> tuple[dict | None, str | None]:
    """One row's cells (column → text) through the lead schema: (data, None) or (None, the
    row's error message)."""
    try:
        return schema.load(_payload(cells)), None
    except ma.ValidationError as exc:
        return None, _message(exc.messages)


def read_rows(text: io.TextIOBase, schema: ma.Schema) -> Iterator[tuple[int, dict | None,
                                                                          str | None]]:
    """Yield (line, data, None) for a valid row and (line, None, message) for a bad one, row by
    row (the bulk import validates in SQL instead; see leads/importing.py)."""
    header, rows = records(text)
    for line, cells, error in rows:
        if error:
            yield line, None, error
            continue
        data, error = load_row(dict(zip(header, cells, strict=True)), schema)
        yield line, data, error
