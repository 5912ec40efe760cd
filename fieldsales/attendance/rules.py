"""Pure rules of attendance: the date range a request may cover, the flag counts of a row, and
the first characters that make a spreadsheet run a CSV cell. No database, no Flask."""
from datetime import date, timedelta

from fieldsales.visits.flags import ALL_FLAGS

# 93 days (inclusive) covers any calendar quarter plus a day; the export stays a bounded
# amount of work for the database even though its memory in the app is constant.
MAX_DAYS = 93
# One day inside what Python's datetime can hold, so a local day's UTC bounds always exist
# whatever the zone (offsets are under a day).
MIN_DATE = date.min + timedelta(days=1)
MAX_DATE = date.max - timedelta(days=1)

STATUSES = ("present", "incomplete", "absent", "off")
REPORT_STATUSES = ("missing", "draft", "submitted", "approved", "returned")

# A cell starting with one of these is read as a formula by Excel, LibreOffice and Google
# Sheets (OWASP "CSV injection"); full-width forms are folded to them by some locales.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def range_errors(first: date, last: date) -> dict:
    """Field errors of a from/to pair ({} when the range is acceptable)."""
    errors = {}
    for field, value in (("from", first), ("to", last)):
        if not MIN_DATE <= value <= MAX_DATE:
            errors[field] = [f"Dates must lie between {MIN_DATE} and {MAX_DATE}."]
    if errors:
        return errors
    if last < first:
        return {"to": ["`to` is before `from`."]}
    if day_count(first, last) > MAX_DAYS:
        return {"to": [f"The range covers {day_count(first, last)} days; at most {MAX_DAYS} "
                       "are allowed per request."]}
    return {}


def day_count(first: date, last: date) -> int:
    """Dates from `first` to `last`, both included."""
    return (last - first).days + 1


def flag_counts(counts) -> dict:
    """{flag: count} from the per-flag counts in ALL_FLAGS order, leaving out zeros."""
    return {flag: n for flag, n in zip(ALL_FLAGS, counts, strict=True) if n}
