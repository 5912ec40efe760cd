"""Check-in and check-out are each one read-and-lock statement and one write statement (plus
the auth row, BEGIN and COMMIT): counted at the driver, through the API (issue 12 §3)."""
import pytest

from tests import factories
from tests.visits.helpers import SHANGHAI, ago, check_in_body, check_out_body


@pytest.fixture
def shop(world):
    return factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1])


def test_check_in_is_auth_plus_two_statements(api, world, shop, statements):
    rep = api.as_(world.rep_east)
    with statements() as sent:
        r = rep.post("/api/v1/visits", json=check_in_body(shop))
    assert r.status_code == 201, r.json
    assert len(sent) == 3, sent


def test_check_in_that_closes_the_open_visit_is_still_two_statements(api, world, shop,
                                                                     statements):
    rep = api.as_(world.rep_east)
    first = rep.post("/api/v1/visits", json=check_in_body(shop, at=ago(minutes=50)))
    assert first.status_code == 201
    with statements() as sent:
        r = rep.post("/api/v1/visits", json=check_in_body(shop, at=ago(minutes=5)))
    assert r.status_code == 201, r.json
    assert len(sent) == 3, sent
    closed = rep.get(f"/api/v1/visits/{first.json['id']}").json
    assert closed["status"] == "closed" and "missing_check_out" in closed["flags"]


def test_check_out_is_auth_plus_two_statements(api, world, shop, statements):
    rep = api.as_(world.rep_east)
    visit = rep.post("/api/v1/visits",
                     json=check_in_body(shop, at=ago(minutes=40))).json
    with statements() as sent:
        r = rep.post(f"/api/v1/visits/{visit['id']}/check-out",
                     json=check_out_body(point=(shop.lat, shop.lng), summary="Met the buyer"))
    assert r.status_code == 200, r.json
    assert len(sent) == 3, sent
    assert r.json["status"] == "closed"
