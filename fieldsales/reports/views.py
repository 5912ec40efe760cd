from fieldsales.extensions import Blueprint

from fieldsales.openapi import describe, responds
from fieldsales.reports import rules, service
from fieldsales.reports.schemas import (DailyReportSchema, ReportDatePath, ReportPutSchema,
                                        ReportQuerySchema, ReportUserQuery, ReviewSchema)
from fieldsales.auth.guard import current

blp = Blueprint("reports", __name__, url_prefix="/api/v1",
                description="Daily reports: drafted from the day, submitted, reviewed")

describe(f"""
### Daily reports

`GET /daily-reports/{{date}}` compiles the rep's local day (its own time zone) from its visits,
photos and lead work when nothing was saved (`id: null`, `status: draft`). `PUT` saves a draft
or, with `submit: true`, submits it: the stats and visit list are frozen and the report is
locked (409 `report_locked`) until a manager returns it. Fields left out of a PUT keep their
value; a PUT that changes nothing answers 200 (a retried submission). Reps write their own
report for their local today and the {rules.WRITE_BACK_DAYS} days before (422
`report_too_old`; returned reports whatever their age); dates after the rep's today are 422
`date_in_future`. Only submitted reports can be reviewed (409 `report_not_submitted`), by the
rep's managers and admins, never by the author; `returned` needs a comment.
""")


@blp.get("/daily-reports/<date>")
@blp.arguments(ReportDatePath, location="path", as_kwargs=True)
@blp.arguments(ReportUserQuery, location="query", as_kwargs=True)
@blp.response(200, DailyReportSchema)
@responds(blp, "date_in_future")
def get_report(date, user_id=None):
    """A rep's report for a local date, or a draft compiled from the day."""
    return service.get_report(principal=current(), day=date, user_id=user_id)


@blp.put("/daily-reports/<date>")
@blp.arguments(ReportDatePath, location="path", as_kwargs=True)
@blp.arguments(ReportPutSchema)
@blp.response(200, DailyReportSchema)
@responds(blp, 403, "date_in_future", "report_too_old", "report_locked")
def save_report(data, date):
    """Save (submit false) or submit (submit true) the caller's own report."""
    return service.save_report(principal=current(), day=date, data=data)


@blp.get("/daily-reports")
@blp.arguments(ReportQuerySchema, location="query")
@blp.response(200, DailyReportSchema(many=True))
@blp.paginate()
def list_reports(filters, pagination_parameters):
    """Saved reports of the people the caller may see (reps: their own), newest date first."""
    return service.list_reports(principal=current(), filters=filters,
                                page=pagination_parameters)


@blp.post("/daily-reports/<uuid:report_id>/review")
@blp.arguments(ReviewSchema)
@blp.response(200, DailyReportSchema)
@responds(blp, 403, "report_not_submitted")
def review_report(data, report_id):
    """Approve or return a submitted report (the rep's managers, admin)."""
    return service.review_report(principal=current(), report_id=report_id, data=data)
