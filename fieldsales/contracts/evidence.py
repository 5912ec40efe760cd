"""Contracts and payments sealed in the contract owner's audit chain: `audit verify` recomputes
the sealed fields from the live rows, so a contract or payment edited behind the API's back
fails verification."""
from fieldsales import audit
from fieldsales.contracts.models import Contract, Payment


def _day(value):
    return value.isoformat() if value is not None else None


def _id(value):
    return str(value) if value is not None else None


def contract_fields(c, version=None) -> dict:
    return {"id": str(c.id), "org_id": str(c.org_id), "customer_id": str(c.customer_id),
            "project_id": _id(c.project_id), "owner_id": str(c.owner_id), "number": c.number,
            "title": c.title, "amount": f"{c.amount:.2f}", "currency": c.currency,
            "signed_on": _day(c.signed_on), "start_date": _day(c.start_date),
            "end_date": _day(c.end_date), "status": c.status,
            "renewal_of_id": _id(c.renewal_of_id), "remind_days": list(c.remind_days),
            "terminate_reason": c.terminate_reason}


def payment_fields(p, version=None) -> dict:
    return {"id": str(p.id), "org_id": str(p.org_id), "contract_id": str(p.contract_id),
            "plan_id": _id(p.plan_id), "amount": f"{p.amount:.2f}",
            "received_on": _day(p.received_on), "method": p.method, "note": p.note}


CONTRACT = audit.Evidence("contract", Contract.__table__, contract_fields)
PAYMENT = audit.Evidence("payment", Payment.__table__, payment_fields)


def seal_contract(contract: Contract, *, action: str, actor_id, data=None):
    """Append the contract as it is now to its owner's chain (caller's transaction)."""
    return audit.record(org_id=contract.org_id, user_id=contract.owner_id, actor_id=actor_id,
                        action=f"contract.{action}", entity_type="contract",
                        entity_id=contract.id, data=data,
                        evidence=contract_fields(contract))


def seal_payment(payment: Payment, *, owner_id, actor_id):
    """Append a new payment to the contract owner's chain (caller's transaction)."""
    return audit.record(org_id=payment.org_id, user_id=owner_id, actor_id=actor_id,
                        action="payment.received", entity_type="payment",
                        entity_id=payment.id, data={"contract_id": str(payment.contract_id)},
                        evidence=payment_fields(payment))
