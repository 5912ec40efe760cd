"""Demo daily reports for the demo visits' days, written through the same service functions
as the API (stats frozen, audit entries sealed): the oldest day approved, the middle one
submitted and waiting (one returned with a comment), yesterday a draft for half the reps and
nothing for the others, so a manager's list and GET /alerts have something to show. A report
that exists is left alone, so running the seed again adds nothing."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from fieldsales.extensions import db
from fieldsales.reports import service
from fieldsales.reports.models import DailyReport
from fieldsales.scope import Principal

SUMMARIES = ["Visited my key accounts; two orders taken.", "Samples left with three buyers.",
             "Quiet morning, good afternoon: the new catalogue went down well."]
PLANS = ["Call back the buyers who asked for prices.", "Visit the new shops on my route.",
         "Chase the overdue payment."]


def seed_reports(context) -> str:
    """Seeder for fieldsales.seed.SEEDERS (after the visits)."""
    org, users = context["org"], context["users"].values()
    today = datetime.now(ZoneInfo(org.timezone)).date()
    managers = {u.team_id: u for u in users if u.role == "manager"}
    reps = sorted((u for u in users if u.role == "rep"), key=lambda u: u.email)
    made = 0
    for i, rep in enumerate(reps):
        for back in (3, 2, 1):
            day = today - timedelta(days=back)
            if back == 1 and i % 2:
                continue  # no report yet: GET /alerts shows it missing (on workdays)
            if db.session.scalar(select(DailyReport.id).where(DailyReport.user_id == rep.id,
                                                              DailyReport.day == day)):
                continue
            rep_principal = Principal.for_user(rep, org_timezone=org.timezone)
            report = service.save_report(principal=rep_principal, day=day, data={
                "summary": SUMMARIES[(i + back) % len(SUMMARIES)],
                "plan": PLANS[(i + back) % len(PLANS)], "problems": None,
                "submit": back > 1})
            made += 1
            manager = managers.get(rep.team_id)
            if manager is None or back == 1 or (back == 2 and i % 3):
                continue
            decision = "approved" if back == 3 else "returned"
            reviewer = Principal.for_user(manager, org_timezone=org.timezone)
            service.review_report(principal=reviewer, report_id=report.id, data={
                "decision": decision,
                "comment": None if decision == "approved" else "Which orders? Add amounts."})
    return f"seed: {made} demo daily reports"
