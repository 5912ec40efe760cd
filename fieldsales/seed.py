"""`fieldsales seed demo`: a realistic demo org in Shanghai, safe to run again.

Ids are derived from names (uuid5), so a second run finds what the first made and only adds
what is missing.
"""
import random
from datetime import date, timedelta

from flask import current_app

from fieldsales import audit
from fieldsales.auth.passwords import hash_password
from fieldsales.customers.models import Contact, Customer
from fieldsales.db import transaction
from fieldsales.extensions import db
from fieldsales.leads.seed import seed_leads
from fieldsales.visits.seed import seed_visits
from fieldsales.orgs.models import Org
from fieldsales.projects.models import Project
from fieldsales.seeding import get_or_add, sid
from fieldsales.teams.models import Team
from fieldsales.users.models import User

CITY = (31.2304, 121.4737)  # People's Square, Shanghai
TZ = "Asia/Shanghai"

PEOPLE = [
    # email, name, role, team
    ("admin@demo.fieldsales.dev", "Admin Zhao", "admin", None),
    ("hr@demo.fieldsales.dev", "HR Qian", "hr", None),
    ("manager.east@demo.fieldsales.dev", "Manager Sun (East)", "manager", "East"),
    ("manager.west@demo.fieldsales.dev", "Manager Li (West)", "manager", "West"),
    ("rep1@demo.fieldsales.dev", "Zhou Wei", "rep", "East"),
    ("rep2@demo.fieldsales.dev", "Wu Fang", "rep", "East"),
    ("rep3@demo.fieldsales.dev", "Zheng Hao", "rep", "East"),
    ("rep4@demo.fieldsales.dev", "Wang Jing", "rep", "West"),
    ("rep5@demo.fieldsales.dev", "Feng Lei", "rep", "West"),
    ("rep6@demo.fieldsales.dev", "Chen Yu", "rep", "West"),
]

BUSINESSES = ["Trading", "Electronics", "Foods", "Logistics", "Pharmacy", "Hardware", "Textiles",
              "Printing", "Auto Parts", "Tea House", "Bakery", "Optics", "Furniture"]
STREETS = ["Nanjing Rd", "Huaihai Rd", "Xizang Rd", "Yan'an Rd", "Century Ave", "Zhaojiabang Rd",
           "Hongqiao Rd", "Siping Rd", "Zhangyang Rd", "Caoxi Rd"]


def seed_org():
    org = get_or_add(Org, sid("org"), name="Demo Trading Co. (Shanghai)", timezone=TZ)
    teams = {}
    for name in ("East", "West"):
        teams[name] = get_or_add(Team, sid("team", name), org_id=org.id, name=f"{name} team",
                                  parent_id=None)
    password = current_app.config["DEMO_PASSWORD"]
    users = {}
    for email, name, role, team in PEOPLE:
        user = db.session.get(User, (org.id, sid("user", email)))
        if user is None:
            user = get_or_add(User, sid("user", email), org_id=org.id, email=email, name=name,
                               role=role, team_id=teams[team].id if team else None,
                               password_hash=hash_password(password))
            audit.record(org_id=org.id, user_id=user.id, actor_id=None, action="user.created",
                         entity_type="user", entity_id=user.id,
                         data={"email": email, "role": role, "seed": True})
        users[email] = user
    return org, teams, users


def seed_customers(org, teams, users, rng):
    reps = [u for u in users.values() if u.role == "rep"]
    customers = []
    for i in range(50):
        lat = CITY[0] + rng.uniform(-0.12, 0.12)
        lng = CITY[1] + rng.uniform(-0.14, 0.14)
        owner = reps[i % len(reps)] if i % 10 else None  # a few unowned cards
        customer = get_or_add(
            Customer, sid("customer", str(i)), org_id=org.id,
            name=f"{rng.choice(['Hengda', 'Jinqiao', 'Xinhua', 'Baolong', 'Huamei', 'Ruifeng'])} "
                 f"{rng.choice(BUSINESSES)} #{i + 1}",
            address=f"{rng.randint(1, 2000)} {rng.choice(STREETS)}, Shanghai",
            phone=f"021-{rng.randint(5000_0000, 6999_9999)}", lat=round(lat, 6),
            lng=round(lng, 6), owner_id=owner.id if owner else None,
            team_id=owner.team_id if owner else None,
            tags=rng.sample(["retail", "wholesale", "key-account", "new", "chain"], 2),
            status="active" if i % 7 else "prospect", custom={}, version=1,
        )
        get_or_add(Contact, sid("contact", str(i)), org_id=org.id, customer_id=customer.id,
                    name=f"Contact {i + 1}", title=rng.choice(["Owner", "Buyer", "Manager"]),
                    phone=f"138{rng.randint(1000_0000, 9999_9999)}", email=None)
        customers.append(customer)
    stages = ["prospecting", "needs_analysis", "demo", "quote", "negotiation", "won", "lost"]
    for i, customer in enumerate(customers[:24]):
        owner_id = customer.owner_id or reps[i % len(reps)].id
        get_or_add(Project, sid("project", str(i)), org_id=org.id, customer_id=customer.id,
                    name=f"{customer.name.split(' #')[0]} order {2026 + i % 2}",
                    stage=stages[i % len(stages)], amount=rng.randint(5, 500) * 1000,
                    owner_id=owner_id,
                    expected_close_date=date(2026, 12, 1) + timedelta(days=7 * i), version=1)
    return customers


# Later domains add their demo data here (lead pool, visits); each receives the same context.
SEEDERS = [seed_leads, seed_visits]


def _seed_reports(context):
    from fieldsales.reports.seed import seed_reports

    return seed_reports(context)


SEEDERS.append(_seed_reports)


def _seed_plans(context):
    from fieldsales.plans.seed import seed_plans

    return seed_plans(context)


SEEDERS.append(_seed_plans)


def _seed_deals(context):
    from fieldsales.contracts.seed import seed_deals

    return seed_deals(context)


SEEDERS.append(_seed_deals)


def _seed_targets(context):
    from fieldsales.targets.seed import seed_targets

    return seed_targets(context)


SEEDERS.append(_seed_targets)


def _seed_approvals(context):
    from fieldsales.approvals.seed import seed_approvals

    return seed_approvals(context)


SEEDERS.append(_seed_approvals)


def seed_demo(progress=print):
    """Create or complete the demo org; returns the logins."""
    rng = random.Random(20261122)
    # Seeders that write through the services commit each use case on the way; the rest is
    # committed at the end.
    with transaction():
        org, teams, users = seed_org()
        progress(f"seed: org, {len(teams)} teams, {len(users)} users")
        customers = seed_customers(org, teams, users, rng)
        progress(f"seed: {len(customers)} customers with contacts and projects")
        context = {"org": org, "teams": teams, "users": users, "customers": customers,
                   "rng": rng}
        for seeder in SEEDERS:
            progress(seeder(context))
    return {
        "org_id": org.id,
        "password": current_app.config["DEMO_PASSWORD"],
        "logins": [{"email": e, "role": r, "team": t} for e, _, r, t in PEOPLE],
    }


