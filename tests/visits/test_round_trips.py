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


@pytest.mark.parametrize("who", ["mgr_east", "admin", "rep_north", "rep_east"])
def test_every_writing_role_checks_in_and_out_under_its_own_scope(api, world, who, statements):
    """The statements are built once per role with the caller's values as parameters: each role
    sees exactly its own customers (a rep of East's subtree North does not see East's card)."""
    east_card = factories.customer(world.org, world.rep_east2, lat=SHANGHAI[0], lng=SHANGHAI[1])
    west_card = factories.customer(world.org, world.rep_west, lat=SHANGHAI[0], lng=SHANGHAI[1])
    caller = api.as_(getattr(world, who))
    expected = {"mgr_east": (201, 404), "admin": (201, 201), "rep_north": (404, 404),
                "rep_east": (201, 404)}[who]
    got = []
    for card in (east_card, west_card):
        r = caller.post("/api/v1/visits", json=check_in_body(card, at=ago(minutes=30)))
        got.append(r.status_code)
        if r.status_code == 201:
            out = caller.post(f"/api/v1/visits/{r.json['id']}/check-out",
                              json=check_out_body(point=SHANGHAI))
            assert out.status_code == 200 and out.json["status"] == "closed"
    assert tuple(got) == expected
    # Another caller cannot check out this one's visit: invisible 404 or forbidden 403.
    if got[0] == 201:
        visit = caller.post("/api/v1/visits", json=check_in_body(east_card)).json
        other = api.as_(world.rep_west).post(f"/api/v1/visits/{visit['id']}/check-out",
                                             json=check_out_body())
        assert other.status_code == 404
        if who != "admin":
            admin = api.as_(world.admin).post(f"/api/v1/visits/{visit['id']}/check-out",
                                              json=check_out_body())
            assert admin.status_code == 403
