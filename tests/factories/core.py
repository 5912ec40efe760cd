"""Orgs, teams, users, customers and projects (committed; the `db` fixture rolls back)."""
import itertools
import uuid

_n = itertools.count(1)
PASSWORD = "correct-horse-battery"


def _save(row, commit=True):
    from fieldsales.extensions import db

    db.session.add(row)
    if commit:
        db.session.commit()
    return row


def _hash(password):
    from fieldsales.auth.passwords import hash_password
    from tests import factories

    with factories.APP.app_context():
        return hash_password(password)


def org(name=None, timezone="Asia/Shanghai", **settings):
    from fieldsales.orgs.models import Org

    return _save(Org(id=uuid.uuid4(), name=name or f"Org {next(_n)}", timezone=timezone,
                     **settings))


def team(org, name=None, parent=None):
    from fieldsales.teams.models import Team

    return _save(Team(id=uuid.uuid4(), org_id=org.id, name=name or f"Team {next(_n)}",
                      parent_id=parent.id if parent else None))


def user(org, role="rep", team=None, email=None, password=PASSWORD, timezone=None, name=None,
         active=True):
    from fieldsales.users.models import User

    n = next(_n)
    return _save(User(id=uuid.uuid4(), org_id=org.id, role=role,
                      team_id=team.id if team else None,
                      email=email or f"{role}{n}-{uuid.uuid4().hex[:6]}@example.test",
                      name=name or f"{role.title()} {n}", timezone=timezone, active=active,
                      password_hash=_hash(password)))


def customer(org, owner=None, team=None, lat=None, lng=None, name=None, **fields):
    from fieldsales.customers.models import Customer

    return _save(Customer(
        id=uuid.uuid4(), org_id=org.id, name=name or f"Customer {next(_n)}",
        owner_id=owner.id if owner else None,
        team_id=team.id if team else (owner.team_id if owner else None),
        lat=lat, lng=lng, tags=fields.pop("tags", []), status=fields.pop("status", "active"),
        custom=fields.pop("custom", {}), version=1, **fields,
    ))


def project(org, customer, owner, name=None, stage="prospecting", **fields):
    from fieldsales.projects.models import Project

    return _save(Project(id=uuid.uuid4(), org_id=org.id, customer_id=customer.id,
                         owner_id=owner.id, name=name or f"Project {next(_n)}", stage=stage,
                         version=1, **fields))


def token_for(app, user):
    from fieldsales.auth.tokens import issue_access_token

    with app.app_context():
        return issue_access_token(user.id, user.org_id)[0]
