"""Money in JSON: exact decimal strings ("1234.50"), never floats (numeric(14,2) columns)."""
from decimal import Decimal, InvalidOperation

import marshmallow as ma

CENT = Decimal("0.01")
LIMIT = Decimal(10) ** 12  # numeric(14,2) holds up to 999999999999.99


class Money(ma.fields.Field):
    """An amount > 0 with at most 2 decimals, below 10^12: a string on input (a JSON number is
    read from its shortest text form); a string with 2 decimals on output."""

    default_error_messages = {
        "invalid": 'Not an amount: send a decimal string such as "1234.50".',
        "places": "At most 2 decimals.",
        "range": "Must be more than 0 and less than 1000000000000.",
    }

    def __init__(self, **kwargs):
        metadata = {"type": "string", "pattern": r"^[0-9]{1,12}(\.[0-9]{1,2})?$",
                    "example": "1234.50", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            raise self.make_error("invalid")
        text = str(value).strip()
        if len(text) > 40:
            raise self.make_error("range")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise self.make_error("invalid") from None
        if not amount.is_finite():
            raise self.make_error("invalid")
        if not 0 < amount < LIMIT:
            raise self.make_error("range")
        if amount != amount.quantize(CENT):
            raise self.make_error("places")
        return amount.quantize(CENT)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else f"{Decimal(value).quantize(CENT)}"
