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
    # no project moved: every open stage listed with nothing in it
    body = api.as_(w.admin).get(f"{FUNNEL}?{FEB}").json
    assert [(s["stage"], s["entered"], s["moved_on"], s["median_days"]) for s in
            body["stages"]] == [(s, 0, 0, None) for s in
                                ("prospecting", "needs_analysis", "demo", "quote", "negotiation")]
    assert (body["won"], body["lost"], body["win_rate"]) == (0, 0, None)


def _moves(project, *steps):
    """Stage events of `project`: (UTC time, stage) in order."""
    import uuid

    from fieldsales.projects.models import ProjectStageEvent
    from tests.factories import _save

    before = None
    for when, stage in steps:
        _save(ProjectStageEvent(org_id=project.org_id, id=uuid.uuid4(), project_id=project.id,
                                at=at(when), from_stage=before, to_stage=stage))
        before = stage


def test_stage_counts_median_days_and_win_rate(api, world):
    from tests import factories

    w = world
    shop = factories.customer(w.org, w.rep_east)
    a, b, d = (factories.project(w.org, shop, w.rep_east) for _ in range(3))
    c = factories.project(w.org, shop, w.rep_north)
    e = factories.project(w.org, shop, w.rep_west)
    _moves(a, ("2027-03-01T00:00:00", "prospecting"), ("2027-03-03T00:00:00", "demo"),
           ("2027-03-07T00:00:00", "won"))
    _moves(b, ("2027-03-02T00:00:00", "prospecting"), ("2027-03-08T00:00:00", "demo"),
           ("2027-03-10T00:00:00", "lost"))
    _moves(c, ("2027-03-05T00:00:00", "prospecting"))
    # 28 Feb 23:00 and 1 March 00:30 in Shanghai: the demo is outside March, the quote inside
    _moves(d, ("2027-02-20T00:00:00", "prospecting"), ("2027-02-28T15:00:00", "demo"),
           ("2027-02-28T16:30:00", "quote"))
    _moves(e, ("2027-03-04T00:00:00", "prospecting"), ("2027-03-05T00:00:00", "won"))

    def funnel(user):
        body = api.as_(user).get(f"{FUNNEL}?from=2027-03-01&to=2027-03-31").json
        return ({s["stage"]: (s["entered"], s["moved_on"], s["median_days"])
                 for s in body["stages"]}, body["won"], body["lost"], body["win_rate"])

    assert funnel(w.admin) == ({"prospecting": (4, 3, 2.0), "needs_analysis": (0, 0, None),
                                "demo": (2, 2, 3.0), "quote": (1, 0, None),
                                "negotiation": (0, 0, None)}, 2, 1, 0.6667)
    stages, won, lost, rate = funnel(w.mgr_east)
    assert stages["prospecting"] == (3, 2, 4.0) and (won, lost, rate) == (1, 1, 0.5)


def test_a_team_or_user_out_of_sight_is_404(api, world):
    assert api.as_(world.mgr_west).get(f"{FUNNEL}?team_id={world.east.id}").status_code == 404
    assert api.as_(world.rep_east).get(f"{FUNNEL}?user_id={world.rep_east2.id}").status_code \
        == 404
    assert api.as_(world.admin).get(f"{FUNNEL}?from=1899-12-31").status_code == 422
