"""Demo targets: this year's visits target for the demo org, split to its teams, each team's
to its reps and to months, and each rep's to months — all published, so the progress tree has
something to show from the demo visits. Ids derive from names: a second run adds nothing."""
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from fieldsales.extensions import db
from fieldsales.targets import periods
from fieldsales.targets.models import Target

PER_REP_MONTH = 20  # visits a month a rep is asked for


def seed_targets(context) -> str:
    """Seeder for fieldsales.seed.SEEDERS."""
    from fieldsales.seeding import sid

    org, teams = context["org"], context["teams"]
    users = context["users"].values()
    admin = next(u for u in users if u.role == "admin")
    year = datetime.now(UTC).astimezone(ZoneInfo(org.timezone)).year
    months = [f"{year}-{m:02d}" for m in range(1, 13)]
    made = []

    def add(kind, subject_id, period, amount, parent_id, *name):
        id_ = sid("target", str(year), *name)
        if db.session.get(Target, (org.id, id_)) is None:
            p = periods.parse(period)
            db.session.add(Target(
                org_id=org.id, id=id_, metric="visits", period=period, starts=p.first,
                ends=p.last, subject_type=kind, subject_id=subject_id, amount=Decimal(amount),
                parent_id=parent_id, status="published", created_by=admin.id))
            made.append(id_)
        return id_

    reps = {name: sorted((u for u in users if u.role == "rep" and u.team_id == team.id),
                         key=lambda u: u.email) for name, team in teams.items()}
    total = PER_REP_MONTH * 12 * sum(len(r) for r in reps.values())
    top = add("org", org.id, str(year), total, None, "org")
    for name, team in teams.items():
        per_month = PER_REP_MONTH * len(reps[name])
        team_id = add("team", team.id, str(year), per_month * 12, top, "team", name)
        for month in months:
            add("team", team.id, month, per_month, team_id, "team", name, month)
        for rep in reps[name]:
            rep_id = add("user", rep.id, str(year), PER_REP_MONTH * 12, team_id, "user",
                         rep.email)
            for month in months:
                add("user", rep.id, month, PER_REP_MONTH, rep_id, "user", rep.email, month)
    db.session.flush()
    return f"seed: {len(made)} demo targets"
