"""idempotency.create answers a retry only on its own signals (DuplicateId from the write, or a
primary-key violation), never on a domain error; against the real database."""
import uuid

import pytest
from sqlalchemy.exc import IntegrityError

from tests import factories


def _admin_principal(world):
    from fieldsales.scope import Principal

    return Principal.for_user(world.admin, org_timezone="Asia/Shanghai")


def _existing_team(principal):
    from fieldsales.teams import service as teams

    data = {"id": uuid.uuid4(), "name": f"Idem {uuid.uuid4().hex[:6]}"}
    team, created = teams.create_team(principal=principal, data=data)
    assert created
    return team, data


def test_a_domain_error_of_the_write_is_not_taken_for_a_retry(app, world):
    from fieldsales import idempotency
    from fieldsales.errors import Conflict
    from fieldsales.teams.models import Team

    def write():
        raise Conflict("A rule of the domain says no.", error="domain_rule")

    with app.test_request_context():
        principal = _admin_principal(world)
        _, data = _existing_team(principal)
        # The id is taken by an identical request, yet the write's own Conflict must win.
        with pytest.raises(Conflict) as raised:
            idempotency.create(Team, principal=principal, data=data, write=write,
                               look_first=False)
        assert raised.value.error == "domain_rule"


def test_duplicate_id_is_answered_from_the_stored_row(app, world):
    from fieldsales import idempotency
    from fieldsales.teams.models import Team

    def write():
        raise idempotency.DuplicateId()

    with app.test_request_context():
        principal = _admin_principal(world)
        team, data = _existing_team(principal)
        row, created = idempotency.create(Team, principal=principal, data=data, write=write,
                                          look_first=False)
        assert (row.id, created) == (team.id, False)


def test_another_unique_violation_is_not_a_retry(app, world):
    """Only the primary key tells a retry: a clash on another unique key (here the user's
    email) reaches the caller even though a row with the request's id exists."""
    from fieldsales import idempotency
    from fieldsales.extensions import db
    from fieldsales.teams.models import Team
    from fieldsales.users.models import User

    def write():
        db.session.add(User(id=uuid.uuid4(), org_id=world.admin.org_id, role="rep",
                            email=world.rep_east.email.upper(), name="Clash",
                            password_hash="x"))
        db.session.flush()

    with app.test_request_context():
        principal = _admin_principal(world)
        _, data = _existing_team(principal)
        with pytest.raises(IntegrityError):
            idempotency.create(Team, principal=principal, data=data, write=write,
                               look_first=False)


def test_a_taken_email_stays_a_409_for_a_new_id(api, world):
    r = api.as_(world.admin).post("/api/v1/users", json={
        "id": str(uuid.uuid4()), "email": world.rep_east.email, "name": "Twin",
        "password": factories.PASSWORD, "role": "rep"})
    assert (r.status_code, r.json["error"]) == (409, "email_taken")
