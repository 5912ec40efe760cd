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
