"""The events, as the domains raise them: each builds its payload and writes it to the outbox
in the caller's transaction (fieldsales.webhooks.outbox)."""
from fieldsales.webhooks.outbox import emit


def visit_risk_changed(visit, before: int) -> None:
    """visit.flagged when a visit's risk score reaches the risky-visit threshold (once: only
    the change that crosses it, so the check-in's usual statements stay as they are)."""
    from fieldsales.alerts.rules import RISKY_VISIT_MIN_RISK

    if (before or 0) < RISKY_VISIT_MIN_RISK <= (visit.risk_score or 0):
        emit(visit.org_id, "visit.flagged", {
            "visit_id": visit.id, "user_id": visit.user_id, "customer_id": visit.customer_id,
            "risk_score": visit.risk_score, "flags": list(visit.flags or [])})


def lead_recycled(lead, *, previous_owner_id, reason: str, at) -> None:
    """lead.recycled: a claimed lead returned to its pool by the recycling job."""
    emit(lead.org_id, "lead.recycled", {
        "lead_id": lead.id, "pool_id": lead.pool_id, "previous_owner_id": previous_owner_id,
        "reason": reason, "at": at.isoformat()})


def report_submitted(report) -> None:
    """report.submitted: a rep submitted its daily report."""
    emit(report.org_id, "report.submitted", {
        "report_id": report.id, "user_id": report.user_id, "day": report.day.isoformat(),
        "submitted_at": report.submitted_at.isoformat(), "stats": report.frozen_stats})
