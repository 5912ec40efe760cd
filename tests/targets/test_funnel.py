"""GET /reports/funnel, lead part, against a hand-computed example from the lead ledger."""
from datetime import UTC, datetime

from tests.factories import leads as lf
from tests.factories import targets as tf
from tests.factories.reports import lead_event

FUNNEL = "/api/v1/reports/funnel"
FEB = "from=2027-02-01&to=2027-02-28"


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_lead_conversion_in_a_span_of_local_days(api, world):
    w = world
    pool = lf.pool(w.org)
    l1, l2, l3, l4, l5 = (lf.lead(w.org, pool) for _ in range(5))
    lead_event(l1, "claimed", at=at("2027-01-31T16:30:00"), to_user=w.rep_east)  # 1 Feb local
    lead_event(l2, "claimed", at=at("2027-02-03T02:00:00"), to_user=w.rep_east)
    lead_event(l3, "claimed", at=at("2027-01-31T15:00:00"), to_user=w.rep_east)  # 31 Jan local
    tf.converted(l1, w.rep_east, at("2027-02-05T02:00:00"))
    lead_event(l4, "assigned", at=at("2027-02-10T02:00:00"), to_user=w.rep_north)
    lead_event(l4, "released", at=at("2027-02-11T02:00:00"))
    lead_event(l4, "claimed", at=at("2027-02-12T02:00:00"), to_user=w.rep_north)  # same lead
    lead_event(l5, "claimed", at=at("2027-02-04T02:00:00"), to_user=w.rep_west)
    tf.converted(l5, w.rep_west, at("2027-02-28T15:59:00"))  # 28 Feb 23:59 local
    tf.converted(l2, w.rep_east, at("2027-02-28T16:01:00"))  # 1 March local: out

    def leads(user, query=FEB):
        r = api.as_(user).get(f"{FUNNEL}?{query}")
        assert r.status_code == 200, r.json
        return r.json["leads"]

    assert leads(w.admin) == {"claimed": 4, "converted": 2, "conversion_rate": 0.5}
    assert leads(w.hr, f"{FEB}&team_id={w.east.id}") == \
        {"claimed": 3, "converted": 1, "conversion_rate": 0.3333}
    assert leads(w.mgr_east) == {"claimed": 3, "converted": 1, "conversion_rate": 0.3333}
    assert leads(w.rep_east) == {"claimed": 2, "converted": 1, "conversion_rate": 0.5}
    assert leads(w.admin, f"{FEB}&user_id={w.rep_west.id}") == \
        {"claimed": 1, "converted": 1, "conversion_rate": 1.0}
    assert leads(w.admin, "from=2027-03-01") == \
        {"claimed": 0, "converted": 1, "conversion_rate": None}
    assert leads(w.admin_b) == {"claimed": 0, "converted": 0, "conversion_rate": None}
    # the stage part waits for the deals tables: empty, never estimated
    body = api.as_(w.admin).get(f"{FUNNEL}?{FEB}").json
    assert (body["stages"], body["won"], body["lost"], body["win_rate"]) == ([], None, None, None)


def test_a_team_or_user_out_of_sight_is_404(api, world):
    assert api.as_(world.mgr_west).get(f"{FUNNEL}?team_id={world.east.id}").status_code == 404
    assert api.as_(world.rep_east).get(f"{FUNNEL}?user_id={world.rep_east2.id}").status_code \
        == 404
    assert api.as_(world.admin).get(f"{FUNNEL}?from=1899-12-31").status_code == 422
