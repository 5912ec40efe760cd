"""`near` results guard the KNN rewrite of list_customers: nearest first with ties by id, pages
that concatenate to the full list, the radius, the fallback past the KNN window, the scope."""
import json

from fieldsales import geo
from tests import factories
from tests.factories.visits import SHANGHAI

NEAR = f"near={SHANGHAI[0]},{SHANGHAI[1]}"


def _spread(world, owner, n, step=0.001):
    """n customers due north of SHANGHAI, 1..n steps away (distinct, well-separated distances)."""
    return [factories.customer(world.org, owner, lat=SHANGHAI[0] + step * (i + 1),
                               lng=SHANGHAI[1], name=f"spread {i}") for i in range(n)]


def _pages(client, query, page_size):
    ids, page, total = [], 1, None
    while True:
        r = client.get(f"/api/v1/customers?{query}&page_size={page_size}&page={page}")
        assert r.status_code == 200
        total = json.loads(r.headers["X-Pagination"])["total"]
        if not r.json:
            return ids, total
        ids += [c["id"] for c in r.json]
        page += 1


def test_exact_ties_are_ordered_by_id(api, world):
    rep = world.rep_east
    spot = (SHANGHAI[0] + 0.002, SHANGHAI[1])
    tied = [factories.customer(world.org, rep, lat=spot[0], lng=spot[1]) for _ in range(5)]
    closer = factories.customer(world.org, rep, lat=SHANGHAI[0] + 0.001, lng=SHANGHAI[1])
    farther = factories.customer(world.org, rep, lat=SHANGHAI[0] + 0.003, lng=SHANGHAI[1])
    r = api.as_(rep).get(f"/api/v1/customers?{NEAR}&page_size=100")
    expected = [closer.id] + sorted(c.id for c in tied) + [farther.id]
    assert [c["id"] for c in r.json] == [str(i) for i in expected]
    distances = {c["distance_m"] for c in r.json[1:6]}
    assert len(distances) == 1


def test_pages_concatenate_to_the_full_ordered_list(api, world):
    made = _spread(world, world.rep_east, 23)
    ids, total = _pages(api.as_(world.rep_east), NEAR, page_size=4)
    assert ids == [str(c.id) for c in made] and total == 23


def test_radius_filters_and_counts(api, world):
    made = _spread(world, world.rep_east, 12, step=0.01)  # ~1.1 km apart
    r = api.as_(world.rep_east).get(f"/api/v1/customers?{NEAR}&radius_m=5000&page_size=3")
    inside = [c for c in made if geo.haversine_m(*SHANGHAI, c.lat, c.lng) <= 5000]
    assert len(inside) == 4
    assert json.loads(r.headers["X-Pagination"])["total"] == 4
    assert [c["id"] for c in r.json] == [str(c.id) for c in inside[:3]]


def test_ties_across_the_knn_window_fall_back_and_stay_right(api, world):
    # Page size 3, page 1: the window is 3 x 3 = 9 rows, but 30 customers share the nearest
    # distance, so the window cuts a tie and the page must come from the plain query.
    rep = world.rep_east
    spot = (SHANGHAI[0] + 0.001, SHANGHAI[1])
    tied = sorted(factories.customer(world.org, rep, lat=spot[0], lng=spot[1]).id
                  for _ in range(30))
    rest = _spread(world, rep, 3, step=0.01)
    ids, total = _pages(api.as_(rep), NEAR, page_size=3)
    assert ids == [str(i) for i in tied] + [str(c.id) for c in rest] and total == 33
    r = api.as_(rep).get(f"/api/v1/customers?{NEAR}&page_size=3")
    assert [c["id"] for c in r.json] == [str(i) for i in tied[:3]]


def test_a_rep_never_sees_another_teams_customer_near(api, world):
    mine = _spread(world, world.rep_east, 3)
    factories.customer(world.org, world.rep_west, lat=SHANGHAI[0], lng=SHANGHAI[1])
    factories.customer(world.org, world.rep_west, lat=SHANGHAI[0] + 0.0015, lng=SHANGHAI[1])
    ids, total = _pages(api.as_(world.rep_east), NEAR, page_size=1)
    assert ids == [str(c.id) for c in mine] and total == 3


def test_total_within_a_radius_equals_a_brute_force_count(api, world):
    """X-Pagination's total with `near` and `radius_m` is the number of the caller's visible
    customers (listed without `near`) whose distance is within the radius, counted one by one
    in Python; other teams', other orgs' and location-less cards around the centre never count.
    Points within 1% of a radius are left out, so sphere and spheroid agree on every one."""
    import random

    rng = random.Random(12)
    radii = (300, 1500, 4000)
    owners = [(world.org, world.rep_east), (world.org, world.rep_east2), (world.org, None),
              (world.org, world.rep_west), (world.org_b, world.rep_b)]
    made = 0
    while made < 120:
        lat = SHANGHAI[0] + rng.uniform(-0.05, 0.05)
        lng = SHANGHAI[1] + rng.uniform(-0.06, 0.06)
        d = geo.haversine_m(*SHANGHAI, lat, lng)
        if any(abs(d - r) < 0.01 * r for r in radii):
            continue
        org, owner = owners[made % len(owners)]
        factories.customer(org, owner, lat=lat, lng=lng)
        made += 1
    factories.customer(world.org, world.rep_east, lat=None, lng=None)
    for user in (world.rep_east, world.mgr_west, world.admin):
        client = api.as_(user)
        visible, page = [], 1
        while batch := client.get(f"/api/v1/customers?page_size=100&page={page}").json:
            visible += batch
            page += 1
        for r in radii:
            expected = sum(1 for c in visible if c["location"] and geo.haversine_m(
                *SHANGHAI, c["location"]["lat"], c["location"]["lng"]) <= r)
            got = client.get(f"/api/v1/customers?{NEAR}&radius_m={r}&page_size=5")
            assert got.status_code == 200
            assert json.loads(got.headers["X-Pagination"])["total"] == expected, (user, r)
