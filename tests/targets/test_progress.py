"""GET /targets/progress against hand-built data: local days in each owner's time zone, a
team's whole subtree, a rep moving team mid-period, leads and customers, the linear pace."""
from datetime import UTC, datetime, timedelta

from tests import factories
from tests.factories import leads as lf
from tests.factories import targets as tf
from tests.factories.visits import visit as _visit

PROGRESS = "/api/v1/targets/progress"


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def visit(rep, shop, *, in_at):
    """A visit checked in at `in_at`, checked out half an hour later."""
    return _visit(rep, shop, in_at=in_at, out_at=in_at + timedelta(minutes=30),
                  point=(31.23, 121.47))


def _by_subject(entries):
    """{subject id: (achieved, expected_to_date, gap, rate)} over a progress tree."""
    out = {}
    stack = list(entries)
    while stack:
        e = stack.pop()
        out[(e["target"]["subject"]["id"], e["target"]["period"])] = (
            e["achieved"], e["expected_to_date"], e["gap"], e["rate"])
        stack.extend(e["children"])
    return out


def test_visits_count_on_each_reps_local_day_over_a_teams_subtree(api, world, db):
    w = world
    w.rep_west.timezone = "America/Los_Angeles"
    db.commit()
    shop = factories.customer(w.org, w.rep_east)
    # rep_east in Shanghai (UTC+8)
    visit(w.rep_east, shop, in_at=at("2027-02-28T16:30:00"))   # 1 March 00:30 local: in
    visit(w.rep_east, shop, in_at=at("2027-03-15T03:00:00"))   # in
    visit(w.rep_east, shop, in_at=at("2027-03-31T16:30:00"))   # 1 April 00:30 local: out
    visit(w.rep_north, shop, in_at=at("2027-03-10T02:00:00"))  # North is below East: in
    # rep_west in Los Angeles (UTC-8, UTC-7 from 14 March)
    visit(w.rep_west, shop, in_at=at("2027-03-01T07:00:00"))   # 28 Feb 23:00 local: out
    visit(w.rep_west, shop, in_at=at("2027-04-01T05:00:00"))   # 31 March 22:00 local: in
    visit(w.rep_b, factories.customer(w.org_b, w.rep_b), in_at=at("2027-03-10T02:00:00"))
    org_t = tf.target(w.org, w.org, period="2027-03", amount="31", status="published")
    for row in (w.east, w.west, w.north):
        tf.target(w.org, row, period="2027-03", amount="31", parent=org_t)
    for row in (w.rep_east, w.rep_west):
        tf.target(w.org, row, period="2027-03", amount="31")
    r = api.as_(w.admin).get(f"{PROGRESS}?period=2027-03&as_of=2027-03-10")
    assert r.status_code == 200, r.json
    got = _by_subject(r.json)
    assert got[(str(w.org.id), "2027-03")] == ("4.00", "10.00", "6.00", 0.129)
    assert got[(str(w.east.id), "2027-03")][0] == "3.00"
    assert got[(str(w.north.id), "2027-03")][0] == "1.00"
    assert got[(str(w.west.id), "2027-03")][0] == "1.00"
    assert got[(str(w.rep_east.id), "2027-03")][0] == "2.00"
    assert got[(str(w.rep_west.id), "2027-03")][0] == "1.00"
    # the org target's children are nested under it; the reps' targets are roots of their own
    roots = {e["target"]["subject"]["id"]: e for e in r.json}
    assert set(roots) == {str(w.org.id), str(w.rep_east.id), str(w.rep_west.id)}
    assert {c["target"]["subject"]["id"] for c in roots[str(w.org.id)]["children"]} == \
        {str(w.east.id), str(w.west.id), str(w.north.id)}


def test_a_rep_moving_team_leaves_its_past_with_the_old_team(api, world, db):
    w = world
    shop = factories.customer(w.org, w.rep_east2)
    rep = w.rep_east2
    visit(rep, shop, in_at=at("2027-03-05T02:00:00"))  # while in East
    visit(rep, shop, in_at=at("2027-03-06T02:00:00"))
    # the admin moves the rep to West through the API; the move is then dated 12 March
    r = api.as_(w.admin).patch(f"/api/v1/users/{rep.id}", json={"team_id": str(w.west.id)})
    assert r.status_code == 200, r.json
    tf.moved_at(rep, at("2027-03-12T00:00:00"))
    visit(rep, shop, in_at=at("2027-03-20T02:00:00"))  # in West
    for row in (w.east, w.west):
        tf.target(w.org, row, period="2027-03", amount="10")
    tf.target(w.org, rep, period="2027-03", amount="10")
    got = _by_subject(api.as_(w.admin).get(f"{PROGRESS}?period=2027-03").json)
    assert got[(str(w.east.id), "2027-03")][0] == "2.00"
    assert got[(str(w.west.id), "2027-03")][0] == "1.00"
    assert got[(str(rep.id), "2027-03")][0] == "3.00"  # the rep's own target follows the rep


def test_converted_leads_and_new_customers(api, world):
    w = world
    pool = lf.pool(w.org)
    for when in ("2027-01-31T15:59:00", "2027-01-31T16:01:00", "2027-02-10T00:00:00"):
        tf.converted(lf.lead(w.org, pool, w.rep_east, status="converted",
                             converted_customer_id=factories.customer(w.org).id), w.rep_east,
                     at(when))  # 23:59 and 00:01 on 1 Feb in Shanghai
    factories.customer(w.org, w.rep_east, created_at=at("2027-02-01T01:00:00"))
    factories.customer(w.org, w.rep_east, created_at=at("2027-01-31T15:00:00"))  # 31 Jan
    factories.customer(w.org, w.rep_west, created_at=at("2027-02-02T01:00:00"))
    tf.target(w.org, w.rep_east, metric="converted_leads", period="2027-02", amount="4")
    tf.target(w.org, w.rep_east, metric="new_customers", period="2027-02", amount="2")
    tf.target(w.org, w.east, metric="new_customers", period="2027-Q1", amount="2")
    admin = api.as_(w.admin)
    leads = admin.get(f"{PROGRESS}?metric=converted_leads&as_of=2027-02-14").json
    assert [(e["achieved"], e["expected_to_date"], e["gap"], e["rate"]) for e in leads] == \
        [("2.00", "2.00", "0.00", 0.5)]
    customers = _by_subject(admin.get(f"{PROGRESS}?metric=new_customers").json)
    assert customers[(str(w.rep_east.id), "2027-02")][0] == "1.00"
    assert customers[(str(w.east.id), "2027-Q1")][0] == "2.00"


def test_who_sees_whose_progress(api, world):
    w = world
    east = tf.target(w.org, w.east, period="2027-03").id
    tf.target(w.org, w.rep_east, period="2027-03", parent=None)
    tf.target(w.org, w.rep_west, period="2027-03")

    def seen(user):
        return sorted(e["target"]["subject"]["id"] for e in api.as_(user).get(PROGRESS).json)

    assert seen(w.rep_east) == [str(w.rep_east.id)]
    assert seen(w.mgr_east) == sorted([str(w.east.id), str(w.rep_east.id)])
    assert len(seen(w.hr)) == 3 and seen(w.admin_b) == []
    assert str(w.east.id) in seen(w.admin) and east is not None


def test_bad_progress_queries_are_422(api, world):
    for query in ("period=2027-13", "metric=sales", "as_of=2200-01-01", "period=%00"):
        r = api.as_(world.admin).get(f"{PROGRESS}?{query}")
        assert r.status_code == 422, (query, r.json)


def test_the_pace_before_during_and_after_the_period(api, world):
    tf.target(world.org, world.rep_east, period="2027-Q1", amount="90")  # 90 days

    def pace(as_of):
        [entry] = api.as_(world.rep_east).get(f"{PROGRESS}?as_of={as_of}").json
        return entry["expected_to_date"], entry["gap"], entry["achieved"]

    assert pace("2026-12-31") == ("0.00", "0.00", "0.00")
    assert pace("2027-01-01") == ("1.00", "1.00", "0.00")
    assert pace("2027-02-14") == ("45.00", "45.00", "0.00")  # 31 + 14 days of 90
    assert pace("2027-04-01") == ("90.00", "90.00", "0.00")
