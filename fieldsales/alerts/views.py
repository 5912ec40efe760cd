from fieldsales.extensions import Blueprint

from fieldsales.alerts import rules, service
from fieldsales.alerts.schemas import AlertQuerySchema, AlertSchema
from fieldsales.openapi import describe, responds
from fieldsales.auth.guard import current

blp = Blueprint("alerts", __name__, url_prefix="/api/v1",
                description="Alerts for managers: leads, idle reps, risky visits, reports")

describe(f"""
### Alerts

`GET /alerts` (managers: their people; admins: the org) lists, oldest first:
`stale_lead` (a claimed lead with no follow-up for half its pool's `recycle_after_days`, until
it enters the warning window), `recycle_soon` (a claimed lead within `warn_before_days` of
recycling, or overdue), `idle_rep` (an active rep with no check-in on its last
{rules.IDLE_WORKDAYS} workdays, by the org's `workdays`, nor today), `risky_visit`
(`risk_score` ≥ {rules.RISKY_VISIT_MIN_RISK}, checked in during the last
{rules.RISKY_VISIT_WINDOW.days} days) and `missing_daily_report` (no submitted report for the
rep's previous workday). Paginated.
""")


@blp.get("/alerts")
@blp.arguments(AlertQuerySchema, location="query")
@blp.response(200, AlertSchema(many=True))
@blp.paginate()
@responds(blp, 403)
def list_alerts(filters, pagination_parameters):
    """Alerts about the people the caller manages (managers, admin), oldest first."""
    return service.list_alerts(principal=current(), filters=filters,
                               page=pagination_parameters)
