from types import SimpleNamespace

import pytest

from tests import factories
from tests.factories.visits import map_visit
from tests.maps.helpers import local

CENTER = (31.2304, 121.4737)  # People's Square, Shanghai


@pytest.fixture
def mapdata(world):
    """Visits on the local day 2026-11-20 (Asia/Shanghai) by East (rep_east, mgr_east),
    North (below East), West and org B, all within ~2 km of each other, plus one on the
    evening before."""
    w = world
    shop = {
        "east": factories.customer(w.org, w.rep_east, lat=CENTER[0], lng=CENTER[1],
                                   name="East shop"),
        "north": factories.customer(w.org, w.rep_north, lat=31.235, lng=121.47,
                                    name="North shop"),
        "west": factories.customer(w.org, w.rep_west, lat=31.2306, lng=121.4739,
                                   name="West shop"),
        "b": factories.customer(w.org_b, w.rep_b, lat=31.2307, lng=121.4736, name="B shop"),
    }
    v = SimpleNamespace(
        e1=map_visit(w.rep_east, shop["east"], lat=31.2310, lng=121.4740, at=local(2026, 11, 20, 9)),
        e2=map_visit(w.rep_east, shop["east"], lat=31.2400, lng=121.4800, at=local(2026, 11, 20, 11),
                 flags=["outside_geofence"]),
        e3=map_visit(w.rep_east, shop["east"], lat=31.2200, lng=121.4600, at=local(2026, 11, 20, 15),
                 status="open"),
        n1=map_visit(w.rep_north, shop["north"], lat=31.2350, lng=121.4700,
                 at=local(2026, 11, 20, 10), flags=["mock_location", "low_accuracy"]),
        m1=map_visit(w.mgr_east, shop["east"], lat=31.2320, lng=121.4750,
                 at=local(2026, 11, 20, 12)),
        eve=map_visit(w.rep_east2, shop["east"], lat=31.2305, lng=121.4738,
                  at=local(2026, 11, 19, 23, 30)),
        w1=map_visit(w.rep_west, shop["west"], lat=31.2306, lng=121.4739,
                 at=local(2026, 11, 20, 10, 30)),
        b1=map_visit(w.rep_b, shop["b"], lat=31.2307, lng=121.4736, at=local(2026, 11, 20, 10, 45)),
    )
    v.shop = shop
    return v
