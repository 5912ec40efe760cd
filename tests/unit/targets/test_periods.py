"""Target periods: years, quarters, months, and what is not one."""
from datetime import date

import pytest

from fieldsales.targets.periods import parse


@pytest.mark.parametrize("text,first,last", [
    ("2027", date(2027, 1, 1), date(2027, 12, 31)),
    ("2027-Q1", date(2027, 1, 1), date(2027, 3, 31)),
    ("2028-Q1", date(2028, 1, 1), date(2028, 3, 31)),
    ("2027-Q4", date(2027, 10, 1), date(2027, 12, 31)),
    ("2028-02", date(2028, 2, 1), date(2028, 2, 29)),
    ("2027-02", date(2027, 2, 1), date(2027, 2, 28)),
    ("2027-12", date(2027, 12, 1), date(2027, 12, 31)),
    ("1900", date(1900, 1, 1), date(1900, 12, 31)),
    ("2199-12", date(2199, 12, 1), date(2199, 12, 31)),
])
def test_periods_cover_their_days(text, first, last):
    period = parse(text)
    assert (period.text, period.first, period.last) == (text, first, last)


@pytest.mark.parametrize("text", [
    "", "27", "2027-Q0", "2027-Q5", "2027-00", "2027-13", "2027-1", "2027-q1", "2027-03-01",
    "1899", "2200", "0000", "9999", "10000", " 2027", "2027\n", "2027-Q1x", "２０２７", None, 2027,
])
def test_anything_else_is_refused(text):
    with pytest.raises(ValueError):
        parse(text)


def test_containment_and_elapsed_days():
    year, q1, march = parse("2027"), parse("2027-Q1"), parse("2027-03")
    assert year.contains(q1) and year.contains(march) and q1.contains(march)
    assert not q1.contains(year) and not year.contains(year)
    assert not q1.contains(parse("2027-04")) and not year.contains(parse("2028-01"))
    assert march.elapsed_days(date(2027, 2, 28)) == 0
    assert march.elapsed_days(date(2027, 3, 1)) == 1
    assert march.elapsed_days(date(2027, 3, 10)) == 10
    assert march.elapsed_days(date(2027, 5, 1)) == 31
    assert year.days == 365
