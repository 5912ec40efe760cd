"""Which plans the money covers (no database)."""
from datetime import date
from decimal import Decimal
from types import SimpleNamespace as P

import marshmallow as ma
import pytest

from fieldsales.contracts.allocation import allocate
from fieldsales.money import Money

TODAY = date(2026, 6, 1)


def _plans():
    return [P(id="b", due_date=date(2026, 5, 1), amount=Decimal("300")),
            P(id="a", due_date=date(2026, 4, 1), amount=Decimal("300")),
            P(id="c", due_date=date(2026, 7, 1), amount=Decimal("400"))]


def test_loose_money_fills_plans_by_due_date():
    got = allocate(_plans(), [P(plan_id=None, amount=Decimal("450"))], TODAY)
    assert {k: (v.paid, v.status) for k, v in got.items()} == {
        "a": (Decimal("300"), "paid"), "b": (Decimal("150"), "overdue"), "c": (Decimal("0"), "due")}


def test_named_payments_first_and_their_excess_flows_on():
    got = allocate(_plans(), [P(plan_id="c", amount=Decimal("500"))], TODAY)
    assert {k: (v.paid, v.status) for k, v in got.items()} == {
        "a": (Decimal("100"), "overdue"), "b": (Decimal("0"), "overdue"), "c": (Decimal("400"), "paid")}


def test_partial_before_due():
    got = allocate(_plans(), [P(plan_id="c", amount=Decimal("1"))], TODAY)
    assert got["c"].status == "partial"


@pytest.mark.parametrize("given, expected", [
    ("1234.5", Decimal("1234.50")), ("0.01", Decimal("0.01")), (12, Decimal("12.00")), (0.1, Decimal("0.10")),
    ("999999999999.99", Decimal("999999999999.99")), ("12.500", Decimal("12.50"))])
def test_money_reads_exact_amounts(given, expected):
    assert Money().deserialize(given) == expected


@pytest.mark.parametrize("given", ["0", "-1", "1.001", "1e12", "1e400", "NaN", "Infinity", "",
                                   "12,5", True, None, [], "9" * 50])
def test_money_refuses(given):
    with pytest.raises(ma.ValidationError):
        Money(required=True).deserialize(given)


def test_money_writes_strings():
    assert Money().serialize("a", {"a": Decimal("5")}) == "5.00"
