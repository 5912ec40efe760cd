from fieldsales.auth.guard import current
from fieldsales.contracts import payments, renewals, service
from fieldsales.contracts.schemas import (ContractCreateSchema, ContractPatchSchema,
                                          ContractQuerySchema, ContractSchema,
                                          PaymentCreateSchema, PaymentPlanCreateSchema,
                                          PaymentPlanSchema, PaymentSchema, RenewalQuerySchema,
                                          RenewalSchema, RenewSchema, TerminateSchema)
from fieldsales.extensions import Blueprint
from fieldsales.openapi import describe, replayed, responds

blp = Blueprint("contracts", __name__, url_prefix="/api/v1",
                description="Contracts, payment plans, payments and renewals")

describe("""
### Deals: contracts and collections

Money is a decimal string with at most 2 decimals (`"1234.50"`), more than 0 and below
10^12, in the contract's `currency`; never a float. A contract is signed by whoever may edit
its customer; a contract on a project that is not won makes the project won. Contracts are
never deleted: they end `expired` (past `end_date`, `fieldsales contracts expire`),
`terminated` or `renewed`. Payments, plans, edits and renewals are for the contract's owner,
the owner's managers and admins. What was received never exceeds the amount (422 `overpaid`);
payment plans together never exceed it either (422 `plans_exceed_contract`).
""")


@blp.get("/contracts")
@blp.arguments(ContractQuerySchema, location="query")
@blp.response(200, ContractSchema(many=True))
@blp.paginate()
def list_contracts(filters, pagination_parameters):
    """List contracts of customers the caller can see."""
    return service.list_contracts(principal=current(), filters=filters,
                                  page=pagination_parameters)


@blp.post("/contracts")
@blp.arguments(ContractCreateSchema)
@blp.response(201, ContractSchema)
@replayed(blp, ContractSchema)
@responds(blp, 403, "contract_number_taken")
def create_contract(data):
    """Sign a contract with a customer."""
    contract, created = service.create_contract(principal=current(), data=data)
    return contract, 201 if created else 200


@blp.get("/contracts/<uuid:contract_id>")
@blp.response(200, ContractSchema)
def get_contract(contract_id):
    """Get a contract with what was received."""
    return service.get_contract(principal=current(), contract_id=contract_id)


@blp.patch("/contracts/<uuid:contract_id>")
@blp.arguments(ContractPatchSchema)
@blp.response(200, ContractSchema)
@responds(blp, 403, "contract_number_taken", "contract_terminated")
def update_contract(data, contract_id):
    """Edit a contract (owner, its managers, admin)."""
    return service.update_contract(principal=current(), contract_id=contract_id, data=data)


@blp.post("/contracts/<uuid:contract_id>/terminate")
@blp.arguments(TerminateSchema)
@blp.response(200, ContractSchema)
@responds(blp, 403, "contract_terminated", "already_renewed")
def terminate_contract(data, contract_id):
    """Terminate a contract early, with a reason."""
    return service.terminate_contract(principal=current(), contract_id=contract_id,
                                      reason=data["reason"])


@blp.get("/contracts/<uuid:contract_id>/payment-plans")
@blp.response(200, PaymentPlanSchema(many=True))
@blp.paginate()
def list_payment_plans(contract_id, pagination_parameters):
    """A contract's payment plans by due date, with their status."""
    return payments.list_plans(principal=current(), contract_id=contract_id,
                               page=pagination_parameters)


@blp.post("/contracts/<uuid:contract_id>/payment-plans")
@blp.arguments(PaymentPlanCreateSchema)
@blp.response(201, PaymentPlanSchema)
@replayed(blp, PaymentPlanSchema)
@responds(blp, 403, "contract_terminated", "plans_exceed_contract")
def create_payment_plan(data, contract_id):
    """Add a payment plan (an instalment due by a date)."""
    plan, created = payments.create_plan(principal=current(), contract_id=contract_id,
                                         data=data)
    return plan, 201 if created else 200


@blp.get("/contracts/<uuid:contract_id>/payments")
@blp.response(200, PaymentSchema(many=True))
@blp.paginate()
def list_payments(contract_id, pagination_parameters):
    """A contract's payments, latest received first."""
    return payments.list_payments(principal=current(), contract_id=contract_id,
                                  page=pagination_parameters)


@blp.post("/contracts/<uuid:contract_id>/payments")
@blp.arguments(PaymentCreateSchema)
@blp.response(201, PaymentSchema)
@replayed(blp, PaymentSchema)
@responds(blp, 403, "contract_terminated", "overpaid")
def record_payment(data, contract_id):
    """Record a payment received on a contract."""
    payment, created = payments.record_payment(principal=current(), contract_id=contract_id,
                                               data=data)
    return payment, 201 if created else 200


@blp.post("/contracts/<uuid:contract_id>/renew")
@blp.arguments(RenewSchema)
@blp.response(201, ContractSchema)
@replayed(blp, ContractSchema)
@responds(blp, 403, "contract_terminated", "already_renewed", "contract_number_taken")
def renew_contract(data, contract_id):
    """Renew a contract into a new one (once)."""
    contract, created = renewals.renew(principal=current(), contract_id=contract_id, data=data)
    return contract, 201 if created else 200


@blp.get("/renewals")
@blp.arguments(RenewalQuerySchema, location="query")
@blp.response(200, RenewalSchema(many=True))
@blp.paginate()
def list_renewals(filters, pagination_parameters):
    """Active contracts ending soon and not renewed, soonest first."""
    return renewals.due_renewals(principal=current(), filters=filters,
                                 page=pagination_parameters)
