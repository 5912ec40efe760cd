"""Demo targets: this year's visits and collections targets for the demo org, each split to its
teams, each team's to its reps and to months, and each rep's to months — all published, so the
progress tree has something to show from the demo visits and payments. Ids derive from names:
a second run adds nothing."""
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from fieldsales.extensions import db
from fieldsales.targets import periods
from fieldsales.targets.models import Target

# What a rep is asked for a month, per metric.
PER_REP_MONTH = {"visits": Decimal(20), "collected_amount": Decimal("50000.00")}


def seed_targets(context) -> str:
    """Seeder for fieldsales.seed.SEEDERS."""
    from fieldsales.seeding import sid

    org, teams = context["org"], context["teams"]
    users = context["users"].values()
    admin = next(u for u in users if u.role == "admin")
    year = datetime.now(UTC).astimezone(ZoneInfo(org.timezone)).year
    made = []
    for metric, per_rep in PER_REP_MONTH.items():
        _seed_metric(org, teams, users, admin, year, metric, per_rep, made, sid)
    db.session.flush()
    return f"seed: {len(made)} demo targets"


def _seed_metric(org, teams, users, admin, year, metric, per_rep_month, made, sid):
    months = [f"{year}-{m:02d}" for m in range(1, 13)]
    # the visits targets came first and are named without their metric
    prefix = ("target", str(year)) + (() if metric == "visits" else (metric,))

    def add(kind, subject_id, period, amount, parent_id, *name):
        id_ = sid(*prefix, *name)
        if db.session.get(Target, (org.id, id_)) is None:
            p = periods.parse(period)
            db.session.add(Target(
                org_id=org.id, id=id_, metric=metric, period=period, starts=p.first,
                ends=p.last, subject_type=kind, subject_id=subject_id, amount=Decimal(amount),
                parent_id=parent_id, status="published", created_by=admin.id))
            made.append(id_)
        return id_

    reps = {name: sorted((u for u in users if u.role == "rep" and u.team_id == team.id),
                         key=lambda u: u.email) for name, team in teams.items()}
    total = per_rep_month * 12 * sum(len(r) for r in reps.values())
    top = add("org", org.id, str(year), total, None, "org")
    for name, team in teams.items():
        per_month = per_rep_month * len(reps[name])
        team_id = add("team", team.id, str(year), per_month * 12, top, "team", name)
        for month in months:
            add("team", team.id, month, per_month, team_id, "team", name, month)
        for rep in reps[name]:
            rep_id = add("user", rep.id, str(year), per_rep_month * 12, team_id, "user",
                         rep.email)
            for month in months:
                add("user", rep.id, month, per_rep_month, rep_id, "user", rep.email, month)
