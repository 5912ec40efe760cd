import marshmallow as ma

from fieldsales.alerts.rules import ALERT_TYPES
from fieldsales.schemas import StrictSchema, Timestamp


class AlertQuerySchema(StrictSchema):
    team_id = ma.fields.UUID(metadata={"description": "People of this team and the teams below "
                                                      "(within the caller's scope)"})
    type = ma.fields.String(validate=ma.validate.OneOf(ALERT_TYPES),
                            metadata={"description": "Only alerts of this type"})


class AlertSchema(ma.Schema):
    type = ma.fields.String(metadata={"enum": list(ALERT_TYPES)})
    user_id = ma.fields.UUID(allow_none=True, metadata={
        "description": "The person the alert is about (null: silent_leads, about a pool)"})
    user_name = ma.fields.String(allow_none=True)
    subject_id = ma.fields.UUID(allow_none=True, metadata={
        "description": "stale_lead, recycle_soon: the lead; risky_visit: the visit; idle_rep: "
                       "the rep; missing_daily_report: the unsubmitted report (null when "
                       "nothing was saved); missed_plan: the plan; overdue_follow_up: the "
                       "customer or lead; customer_visit_overdue: the customer; "
                       "contract_expiring: the contract; payment_overdue: the payment plan; "
                       "silent_leads: the pool"})
    since = Timestamp(metadata={
        "description": "When the situation began: leads: their last follow-up (or claim); "
                       "idle_rep: the last check-in (or the account's creation); risky_visit: "
                       "its check-in; missing_daily_report: the end of the day it is for; "
                       "missed_plan: when it was marked missed; overdue_follow_up: the "
                       "next_follow_up_at; customer_visit_overdue: when the visit fell due; "
                       "contract_expiring: the start of the local day the nearest remind_days "
                       "threshold was crossed; payment_overdue: the end of the plan's due date; "
                       "silent_leads: when its longest-waiting lead turned silent"})
    detail = ma.fields.String(metadata={"description": "One sentence for the manager"})
