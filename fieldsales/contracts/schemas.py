import marshmallow as ma

from fieldsales.contracts.models import METHODS, STATUSES
from fieldsales.money import Money
from fieldsales.schemas import Day, IdArg, StrictSchema, Timestamp

_currency = ma.fields.String(validate=ma.validate.Regexp(r"^[A-Z]{3}$"),
                             metadata={"description": "ISO 4217 code", "example": "CNY"})
_remind_days = ma.fields.List(
    ma.fields.Integer(validate=ma.validate.Range(min=0, max=3650)),
    validate=ma.validate.Length(max=10),
    metadata={"description": "Days before end_date at which the owner is reminded "
                             "(`contract_expiring` alert); default [90, 30, 7]"})


def _number(**kwargs):
    return ma.fields.String(validate=ma.validate.Length(min=1, max=100), **kwargs,
                            metadata={"description": "Unique in the organisation "
                                                     "(409 contract_number_taken)"})


_title = ma.fields.String(validate=ma.validate.Length(max=200))


def _money_out(description):
    return Money(dump_only=True, metadata={"description": description})


class ContractSchema(ma.Schema):
    id = ma.fields.UUID()
    customer_id = ma.fields.UUID()
    project_id = ma.fields.UUID(allow_none=True)
    owner_id = ma.fields.UUID()
    number = ma.fields.String()
    title = ma.fields.String()
    amount = Money()
    currency = ma.fields.String()
    signed_on = Day()
    start_date = Day()
    end_date = Day(allow_none=True)
    status = ma.fields.String(metadata={"enum": list(STATUSES)})
    renewal_of_id = ma.fields.UUID(allow_none=True)
    remind_days = ma.fields.List(ma.fields.Integer())
    received = _money_out("The sum of the payments")
    outstanding = _money_out("amount - received")
    terminated_at = Timestamp(allow_none=True)
    terminate_reason = ma.fields.String(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()


class ContractCreateSchema(IdArg):
    customer_id = ma.fields.UUID(required=True)
    project_id = ma.fields.UUID(allow_none=True, metadata={
        "description": "A project of the customer; a project not yet won becomes won"})
    owner_id = ma.fields.UUID(metadata={"description": "Default: the caller"})
    number = _number(required=True)
    title = _title
    amount = Money(required=True)
    currency = _currency
    signed_on = Day(required=True)
    start_date = Day(required=True)
    end_date = Day(allow_none=True)
    remind_days = _remind_days

    @ma.validates_schema
    def _dates(self, data, **kwargs):
        check_dates(data.get("start_date"), data.get("end_date"))


def check_dates(start, end):
    if start is not None and end is not None and end < start:
        raise ma.ValidationError("Must not be before start_date.", "end_date")


class ContractPatchSchema(StrictSchema):
    owner_id = ma.fields.UUID()
    number = _number()
    title = _title
    amount = Money(metadata={"description": "Not below what was received or planned"})
    currency = _currency
    signed_on = Day()
    start_date = Day()
    end_date = Day(allow_none=True)
    remind_days = _remind_days


class ContractQuerySchema(StrictSchema):
    customer_id = ma.fields.UUID()
    project_id = ma.fields.UUID()
    owner_id = ma.fields.UUID()
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
    ending_before = Day(metadata={"description": "end_date on or before this date"})


class TerminateSchema(StrictSchema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=2000))


class PaymentPlanSchema(ma.Schema):
    id = ma.fields.UUID()
    contract_id = ma.fields.UUID()
    due_date = Day()
    amount = Money()
    paid = _money_out("What the payments cover of this plan (those naming it first, then "
                      "the others by due date)")
    status = ma.fields.String(metadata={"enum": ["paid", "partial", "due", "overdue"]})
    created_at = Timestamp()


class PaymentPlanCreateSchema(IdArg):
    due_date = Day(required=True)
    amount = Money(required=True)


class PaymentSchema(ma.Schema):
    id = ma.fields.UUID()
    contract_id = ma.fields.UUID()
    plan_id = ma.fields.UUID(allow_none=True)
    amount = Money()
    received_on = Day()
    method = ma.fields.String(metadata={"enum": list(METHODS)})
    note = ma.fields.String(allow_none=True)
    created_by = ma.fields.UUID(allow_none=True)
    created_at = Timestamp()


class PaymentCreateSchema(IdArg):
    amount = Money(required=True)
    received_on = Day(required=True)
    method = ma.fields.String(required=True, validate=ma.validate.OneOf(METHODS))
    plan_id = ma.fields.UUID(allow_none=True)
    note = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=2000))


class RenewSchema(IdArg):
    start_date = Day(required=True)
    end_date = Day(required=True)
    amount = Money(metadata={"description": "Default: the renewed contract's amount"})
    number = _number()
    signed_on = Day(metadata={"description": "Default: today (the caller's time zone)"})

    @ma.validates_schema
    def _dates(self, data, **kwargs):
        check_dates(data.get("start_date"), data.get("end_date"))


class RenewalQuerySchema(StrictSchema):
    within_days = ma.fields.Integer(load_default=90, validate=ma.validate.Range(min=0, max=3650))
    team_id = ma.fields.UUID()
    owner_id = ma.fields.UUID()


class _Ref(ma.Schema):
    id = ma.fields.UUID()
    name = ma.fields.String()


class RenewalSchema(ContractSchema):
    customer = ma.fields.Nested(_Ref)
    owner = ma.fields.Nested(_Ref)
    days_left = ma.fields.Integer(metadata={"description": "Days until end_date (negative: "
                                                           "past it, not yet expired)"})
