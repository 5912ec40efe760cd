"""Target periods: a year ("2027"), a quarter ("2027-Q1") or a month ("2027-03"), as the
first and last local day they cover. Pure (no database), so it is unit-tested on its own."""
import re
from dataclasses import dataclass
from datetime import date, timedelta

from fieldsales.timeutil import EARLIEST_DAY, LATEST_DAY

_PATTERN = re.compile(r"([0-9]{4})(?:-Q([1-4])|-(0[1-9]|1[0-2]))?\Z")


@dataclass(frozen=True)
class Period:
    text: str
    first: date
    last: date  # inclusive

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def contains(self, other: "Period") -> bool:
        """Whether `other` is a strictly smaller period inside this one (a quarter or month of
        a year, a month of a quarter)."""
        return other != self and self.first <= other.first and other.last <= self.last

    def elapsed_days(self, today: date) -> int:
        """Days of the period up to and including `today` (0 before it, all after it)."""
        if today < self.first:
            return 0
        return min(self.days, (today - self.first).days + 1)


def _month_end(year: int, month: int) -> date:
    nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return nxt - timedelta(days=1)


def parse(text: str) -> Period:
    """The period a string names; ValueError for anything else or outside the calendar the
    API accepts (1900 … 2199)."""
    match = _PATTERN.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError('Expected a year ("2027"), a quarter ("2027-Q1") or a month ("2027-03").')
    year = int(match.group(1))
    if not EARLIEST_DAY.year <= year <= LATEST_DAY.year:
        raise ValueError(f"Years must fall between {EARLIEST_DAY.year} and {LATEST_DAY.year}.")
    if match.group(2):
        quarter = int(match.group(2))
        return Period(text, date(year, 3 * quarter - 2, 1), _month_end(year, 3 * quarter))
    if match.group(3):
        month = int(match.group(3))
        return Period(text, date(year, month, 1), _month_end(year, month))
    return Period(text, date(year, 1, 1), date(year, 12, 31))


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"
