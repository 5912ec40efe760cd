"""Check-in and check-out through the API: evidence fields, every flag, the one-open-visit rule,
idempotency, validation and listing filters."""
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from fieldsales import geo
from fieldsales.customers.models import ContactRecord
from fieldsales.visits.models import Visit
from tests import factories
from tests.factories import visits as fv
from tests.visits.helpers import (SHANGHAI, ago, check_in_body, check_out_body, distance_m, iso,
                                  location, offset)

VISIT_KEYS = {"id", "user_id", "customer_id", "project_id", "purpose", "status", "check_in",
              "check_out", "duration_s", "flags", "risk_score", "photos", "note", "summary",
              "outcome"}
EVENT_KEYS = {"at", "device_time", "received_at", "location", "distance_m", "within_geofence"}


def parse(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def shop(world):
    return factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1],
                              name="Shop")


def check_in(api, user, customer, **kw):
    return api.as_(user).post("/api/v1/visits", json=check_in_body(customer, **kw))


def test_check_in_returns_the_documented_visit(api, world, shop):
    here = offset(SHANGHAI, north_m=60)
    device = ago(seconds=20)
    r = check_in(api, world.rep_east, shop, point=here, at=device, purpose="Quarterly review",
                 note="Bring samples")
    assert r.status_code == 201, r.json
    v = r.json
    assert set(v) >= VISIT_KEYS
    assert set(v["check_in"]) == EVENT_KEYS
    assert v["status"] == "open" and v["check_out"] is None and v["duration_s"] is None
    assert v["user_id"] == str(world.rep_east.id) and v["customer_id"] == str(shop.id)
    assert v["purpose"] == "Quarterly review" and v["note"] == "Bring samples"
    ci = v["check_in"]
    assert parse(ci["at"]) == parse(ci["device_time"]) == device
    assert ci["received_at"].endswith("Z") and parse(ci["received_at"]) >= device
    assert ci["location"] == {"lat": here[0], "lng": here[1], "accuracy_m": 10.0,
                              "provider": None}
    assert ci["distance_m"] == pytest.approx(distance_m(here, SHANGHAI), abs=1.0)
    assert ci["within_geofence"] is True
    assert v["flags"] == [] and v["risk_score"] == 0 and v["photos"] == []
    assert api.as_(world.rep_east).get(f"/api/v1/visits/{v['id']}").json == v


def test_provider_and_altitude_are_kept(api, world, shop):
    body = check_in_body(shop)
    body["location"].update(provider="fused", altitude_m=12.5)
    r = api.as_(world.rep_east).post("/api/v1/visits", json=body)
    assert r.status_code == 201 and r.json["check_in"]["location"]["provider"] == "fused"


@pytest.mark.parametrize("crs, forward", [("gcj02", geo.wgs84_to_gcj02),
                                          ("bd09", geo.wgs84_to_bd09)])
def test_chinese_datums_are_stored_as_wgs84(api, world, shop, crs, forward):
    lat, lng = forward(*SHANGHAI)
    body = check_in_body(shop)
    body["location"] = {"lat": lat, "lng": lng, "accuracy_m": 5, "crs": crs}
    r = api.as_(world.rep_east).post("/api/v1/visits", json=body)
    loc = r.json["check_in"]["location"]
    assert distance_m((loc["lat"], loc["lng"]), SHANGHAI) < 0.05
    assert r.json["check_in"]["distance_m"] < 0.1 and r.json["flags"] == []


def test_geofence_uses_the_customers_radius_else_the_orgs(api, world):
    org_default = factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1])
    tight = factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1],
                               geofence_radius_m=100)
    at_150m = offset(SHANGHAI, east_m=150)
    r = check_in(api, world.rep_east, org_default, point=at_150m)  # org radius 200
    assert r.json["check_in"]["within_geofence"] is True and r.json["flags"] == []
    r = check_in(api, world.rep_east, tight, point=at_150m)
    assert r.json["check_in"]["within_geofence"] is False
    assert r.json["check_in"]["distance_m"] == pytest.approx(150, abs=1)
    assert "outside_geofence" in r.json["flags"]
    r = check_in(api, world.rep_east, org_default, point=offset(SHANGHAI, east_m=260))
    assert r.json["flags"] == ["outside_geofence"]


def test_customer_without_location(api, world):
    nowhere = factories.customer(world.org, world.rep_east)
    r = check_in(api, world.rep_east, nowhere, point=SHANGHAI)
    ci = r.json["check_in"]
    assert ci["distance_m"] is None and ci["within_geofence"] is None
    assert r.json["flags"] == ["no_customer_location"] and r.json["risk_score"] > 0


@pytest.mark.parametrize("accuracy, flagged", [(None, True), (100, False), (150, True)])
def test_low_accuracy(api, world, shop, accuracy, flagged):
    body = check_in_body(shop)
    if accuracy is None:
        del body["location"]["accuracy_m"]
    else:
        body["location"]["accuracy_m"] = accuracy
    r = api.as_(world.rep_east).post("/api/v1/visits", json=body)
    assert ("low_accuracy" in r.json["flags"]) is flagged


def test_low_accuracy_threshold_is_the_orgs(api, db, world, shop):
    from sqlalchemy import update

    from fieldsales.orgs.models import Org

    db.execute(update(Org).where(Org.id == world.org.id).values(low_accuracy_m=20))
    db.commit()
    r = check_in(api, world.rep_east, shop, accuracy_m=30)
    assert r.json["flags"] == ["low_accuracy"]


def test_mock_location_weighs_heavily(api, world, shop):
    r = api.as_(world.rep_east).post("/api/v1/visits",
                                     json=check_in_body(shop, mock_location=True))
    assert r.json["flags"] == ["mock_location"] and r.json["risk_score"] >= 40


def test_device_clock_ahead_files_the_event_at_received_time(api, world, shop):
    ahead = datetime.now(UTC) + timedelta(minutes=20)
    r = check_in(api, world.rep_east, shop, at=ahead)
    ci = r.json["check_in"]
    assert parse(ci["device_time"]) == ahead
    assert ci["at"] == ci["received_at"]
    assert r.json["flags"] == ["device_time_ahead"]


def test_late_sync(api, world, shop):
    r = check_in(api, world.rep_east, shop, at=ago(minutes=45))
    assert r.json["flags"] == ["late_sync"]
    assert parse(r.json["check_in"]["at"]) < parse(r.json["check_in"]["received_at"])


def test_impossible_speed_from_the_previous_event(api, world, shop):
    far = factories.customer(world.org, world.rep_east, lat=31.6, lng=121.4737)  # ~41 km north
    rep = api.as_(world.rep_east)
    first = check_in(api, world.rep_east, shop, at=ago(minutes=30)).json
    rep.post(f"/api/v1/visits/{first['id']}/check-out",
             json=check_out_body(at=ago(minutes=20)))
    # 41 km in 10 minutes is ~250 km/h
    r = check_in(api, world.rep_east, far, at=ago(minutes=10), point=(31.6, 121.4737))
    assert "impossible_speed" in r.json["flags"] and r.json["risk_score"] >= 40


def test_plausible_travel_is_not_flagged(api, world, shop):
    near = factories.customer(world.org, world.rep_east, lat=31.30, lng=121.4737)  # ~7.8 km
    first = check_in(api, world.rep_east, shop, at=ago(minutes=50)).json
    api.as_(world.rep_east).post(f"/api/v1/visits/{first['id']}/check-out",
                                 json=check_out_body(at=ago(minutes=40)))
    r = check_in(api, world.rep_east, near, at=ago(minutes=10), point=(31.30, 121.4737))
    assert r.json["flags"] == []


def test_previous_event_is_by_event_time_not_arrival(api, world, shop):
    """A late-synced event earlier than stored ones is compared with the one before it."""
    far = factories.customer(world.org, world.rep_east, lat=31.6, lng=121.4737)
    rep = api.as_(world.rep_east)
    v1 = check_in(api, world.rep_east, far, at=ago(minutes=20), point=(31.6, 121.4737)).json
    rep.post(f"/api/v1/visits/{v1['id']}/check-out",
             json=check_out_body(at=ago(minutes=15), point=(31.6, 121.4737)))
    # arrives now, but happened 3 hours ago: its previous event is none, not the far visit
    r = check_in(api, world.rep_east, shop, at=ago(hours=3))
    assert "impossible_speed" not in r.json["flags"] and "late_sync" in r.json["flags"]


def test_new_check_in_closes_the_open_visit(api, world, shop, db):
    other = factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1])
    first = check_in(api, world.rep_east, shop, at=ago(minutes=40)).json
    second = check_in(api, world.rep_east, other, at=ago(minutes=5)).json
    old = api.as_(world.rep_east).get(f"/api/v1/visits/{first['id']}").json
    assert old["status"] == "closed" and old["closed_by"] == "auto"
    assert old["check_out"] is None
    assert "missing_check_out" in old["flags"] and old["risk_score"] > 0
    assert old["closed_at"] == second["check_in"]["at"]
    assert old["duration_s"] == pytest.approx(35 * 60, abs=2)
    assert db.scalar(select(func.count()).where(Visit.user_id == world.rep_east.id,
                                                Visit.status == "open")) == 1


def test_check_out(api, world, shop, db):
    rep = api.as_(world.rep_east)
    v = check_in(api, world.rep_east, shop, at=ago(minutes=25)).json
    body = check_out_body(at=ago(minutes=1), summary="Agreed on a trial order",
                          outcome="trial", next_follow_up_at="2026-12-01T10:00:00+08:00")
    r = rep.post(f"/api/v1/visits/{v['id']}/check-out", json=body)
    assert r.status_code == 200, r.json
    out = r.json
    assert out["status"] == "closed" and out["closed_by"] == "rep"
    assert set(out["check_out"]) == EVENT_KEYS
    assert out["duration_s"] == pytest.approx(24 * 60, abs=2)
    assert out["check_out"]["within_geofence"] is True and out["flags"] == []
    assert out["summary"] == "Agreed on a trial order" and out["outcome"] == "trial"
    record = db.scalar(select(ContactRecord).where(ContactRecord.visit_id == uuid.UUID(v["id"])))
    assert record.method == "visit" and record.summary == "Agreed on a trial order"
    assert record.user_id == world.rep_east.id and record.customer_id == shop.id
    timeline = rep.get(f"/api/v1/customers/{shop.id}/timeline").json
    assert {(i["type"], i["id"]) for i in timeline} >= {("visit", v["id"]),
                                                        ("contact_record", str(record.id))}
    item = next(i for i in timeline if i["type"] == "visit")
    stored = rep.get(f"/api/v1/visits/{v['id']}").json
    assert item["detail"]["closed_at"] == stored["closed_at"] and stored["closed_at"].endswith("Z")


def test_timeline_shows_visits_within_the_callers_visit_scope(api, world, shop):
    """A teammate sees the customer and the check-out's contact record, not the visit itself
    (API.md: a rep sees its own visits); the rep's manager sees the visit too."""
    v = check_in(api, world.rep_east, shop, at=ago(minutes=20)).json
    api.as_(world.rep_east).post(f"/api/v1/visits/{v['id']}/check-out",
                                 json=check_out_body(summary="Trial order"))

    def kinds(user):
        timeline = api.as_(user).get(f"/api/v1/customers/{shop.id}/timeline")
        assert timeline.status_code == 200
        return sorted(i["type"] for i in timeline.json)

    assert kinds(world.rep_east) == ["contact_record", "visit"]
    assert kinds(world.mgr_east) == ["contact_record", "visit"]
    assert kinds(world.rep_east2) == ["contact_record"]


def test_check_out_without_summary_writes_no_contact_record(api, world, shop, db):
    v = check_in(api, world.rep_east, shop, at=ago(minutes=10)).json
    api.as_(world.rep_east).post(f"/api/v1/visits/{v['id']}/check-out", json=check_out_body())
    assert db.scalar(select(func.count()).where(
        ContactRecord.visit_id == uuid.UUID(v["id"]))) == 0


def test_short_visit_and_check_out_outside_geofence(api, world, shop):
    v = check_in(api, world.rep_east, shop, at=ago(seconds=70)).json
    r = api.as_(world.rep_east).post(
        f"/api/v1/visits/{v['id']}/check-out",
        json=check_out_body(point=offset(SHANGHAI, north_m=400), at=ago(seconds=10)))
    assert r.json["flags"] == ["check_out_outside_geofence", "short_visit"]
    assert r.json["check_out"]["within_geofence"] is False


def test_repeated_check_out_is_unchanged_and_a_different_one_is_409(api, world, shop):
    rep = api.as_(world.rep_east)
    v = check_in(api, world.rep_east, shop, at=ago(minutes=10)).json
    body = check_out_body(summary="done")
    first = rep.post(f"/api/v1/visits/{v['id']}/check-out", json=body)
    again = rep.post(f"/api/v1/visits/{v['id']}/check-out", json=body)
    assert again.status_code == 200 and again.json == first.json
    other = rep.post(f"/api/v1/visits/{v['id']}/check-out", json={**body, "summary": "else"})
    assert other.status_code == 409 and other.json["error"] == "already_checked_out"


def test_check_out_of_an_auto_closed_visit_is_409(api, world, shop):
    v = check_in(api, world.rep_east, shop, at=ago(minutes=30)).json
    check_in(api, world.rep_east, shop, at=ago(minutes=5))
    r = api.as_(world.rep_east).post(f"/api/v1/visits/{v['id']}/check-out",
                                     json=check_out_body())
    assert r.status_code == 409 and r.json["error"] == "already_checked_out"


def test_check_out_before_check_in_is_422(api, world, shop):
    v = check_in(api, world.rep_east, shop, at=ago(minutes=5)).json
    r = api.as_(world.rep_east).post(f"/api/v1/visits/{v['id']}/check-out",
                                     json=check_out_body(at=ago(minutes=10)))
    assert r.status_code == 422 and "device_time" in r.json["errors"]["json"]


def test_only_the_visits_rep_checks_out(api, world, shop):
    v = check_in(api, world.rep_east, shop).json
    for who in (world.mgr_east, world.admin, world.hr):
        r = api.as_(who).post(f"/api/v1/visits/{v['id']}/check-out", json=check_out_body())
        assert r.status_code == 403, who.role
    assert api.as_(world.rep_east2).post(f"/api/v1/visits/{v['id']}/check-out",
                                         json=check_out_body()).status_code == 404


def test_hr_cannot_check_in(api, world, shop):
    r = api.as_(world.hr).post("/api/v1/visits", json=check_in_body(shop))
    assert r.status_code == 403


def test_project_must_belong_to_the_customer(api, world, shop):
    elsewhere = factories.customer(world.org, world.rep_east)
    wrong = factories.project(world.org, elsewhere, world.rep_east)
    right = factories.project(world.org, shop, world.rep_east)
    r = check_in(api, world.rep_east, shop, project_id=str(wrong.id))
    assert r.status_code == 422 and "project_id" in r.json["errors"]["json"]
    r = check_in(api, world.rep_east, shop, project_id=str(right.id))
    assert r.status_code == 201 and r.json["project_id"] == str(right.id)
    listed = api.as_(world.rep_east).get(f"/api/v1/projects/{right.id}/visits").json
    assert [x["id"] for x in listed] == [r.json["id"]]


def test_invisible_customer_is_404(api, world):
    theirs = factories.customer(world.org, world.rep_west, lat=SHANGHAI[0], lng=SHANGHAI[1])
    foreign = factories.customer(world.org_b, world.rep_b, lat=SHANGHAI[0], lng=SHANGHAI[1])
    for customer in (theirs, foreign):
        r = check_in(api, world.rep_east, customer)
        assert r.status_code == 404 and r.json["error"] == "not_found"


@pytest.mark.parametrize("mutate", [
    lambda b: b.pop("location"),
    lambda b: b.pop("device_time"),
    lambda b: b.pop("customer_id"),
    lambda b: b.update(device_time="2026-11-20T10:00:00"),  # no offset
    lambda b: b.update(location={"lat": 91, "lng": 0}),
    lambda b: b.update(location={"lat": 31, "lng": 121, "provider": "satellite"}),
    lambda b: b.update(location={"lat": 31, "lng": 121, "accuracy_m": -1}),
    lambda b: b.update(customer_id="nope"),
    lambda b: b.update(flags=["none"]),
    lambda b: b.update(user_id=str(uuid.uuid4())),
    lambda b: b.update(mock_location="maybe"),
])
def test_check_in_validation(api, world, shop, mutate):
    body = check_in_body(shop)
    mutate(body)
    r = api.as_(world.rep_east).post("/api/v1/visits", json=body)
    assert r.status_code == 422 and r.json["errors"]


def test_check_out_validation(api, world, shop):
    v = check_in(api, world.rep_east, shop).json
    for body in ({"device_time": iso(ago())}, {"location": location()},
                 {**check_out_body(), "summary": ""}, {**check_out_body(), "status": "open"}):
        r = api.as_(world.rep_east).post(f"/api/v1/visits/{v['id']}/check-out", json=body)
        assert r.status_code == 422


def test_idempotent_check_in(api, world, shop, db):
    rep = api.as_(world.rep_east)
    body = check_in_body(shop, id=str(uuid.uuid4()))
    first = rep.post("/api/v1/visits", json=body)
    again = rep.post("/api/v1/visits", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    changed = rep.post("/api/v1/visits", json={**body, "note": "different"})
    assert changed.status_code == 409 and changed.json["error"] == "idempotency_conflict"
    teammate = check_in(api, world.rep_east2, shop, id=body["id"])
    assert teammate.status_code == 409 and teammate.json["error"] == "idempotency_conflict"
    assert db.scalar(select(func.count()).where(Visit.id == uuid.UUID(body["id"]))) == 1


def test_visits_cannot_be_deleted_or_edited(api, world, shop):
    v = check_in(api, world.rep_east, shop).json
    for method in ("DELETE", "PATCH", "PUT"):
        r = api.as_(world.admin).request(method, f"/api/v1/visits/{v['id']}", json={})
        assert r.status_code == 405


# --- listing ---------------------------------------------------------------------------------

def test_who_sees_which_visits(api, world):
    made = {}
    for name in ("rep_east", "rep_east2", "rep_north", "rep_west"):
        user = getattr(world, name)
        c = factories.customer(world.org, user, lat=SHANGHAI[0], lng=SHANGHAI[1])
        made[name] = check_in(api, user, c).json["id"]
    c_b = factories.customer(world.org_b, world.rep_b, lat=SHANGHAI[0], lng=SHANGHAI[1])
    made_b = check_in(api, world.rep_b, c_b).json["id"]

    def seen(user, query=""):
        return {v["id"] for v in api.as_(user).get(f"/api/v1/visits?page_size=100{query}").json}

    assert seen(world.rep_east) == {made["rep_east"]}
    assert seen(world.mgr_east) == {made["rep_east"], made["rep_east2"], made["rep_north"]}
    assert seen(world.mgr_west) == {made["rep_west"]}
    assert seen(world.hr) == seen(world.admin) == set(made.values())
    assert seen(world.admin_b) == {made_b}
    # filters never widen the scope
    assert seen(world.rep_east, f"&user_id={world.rep_west.id}") == set()
    assert seen(world.mgr_east, f"&team_id={world.north.id}") == {made["rep_north"]}
    assert seen(world.admin, f"&team_id={world.east.id}") == {
        made["rep_east"], made["rep_east2"], made["rep_north"]}
    assert seen(world.admin, f"&user_id={world.rep_west.id}") == {made["rep_west"]}


def test_list_filters(api, world, shop):
    rep = api.as_(world.rep_east)
    other = factories.customer(world.org, world.rep_east, lat=31.30, lng=121.60)
    project = factories.project(world.org, shop, world.rep_east)
    old = check_in(api, world.rep_east, shop, at=ago(days=3), project_id=str(project.id)).json
    flagged = check_in(api, world.rep_east, other, at=ago(hours=2), mock_location=True,
                       point=(31.30, 121.60)).json
    clean = check_in(api, world.rep_east, shop, at=ago(minutes=1)).json

    def ids(query):
        r = rep.get(f"/api/v1/visits?{query}")
        assert r.status_code == 200, r.json
        return [v["id"] for v in r.json]

    assert ids("") == [clean["id"], flagged["id"], old["id"]]  # newest first
    assert ids(f"customer_id={other.id}") == [flagged["id"]]
    assert ids(f"project_id={project.id}") == [old["id"]]
    assert ids("status=open") == [clean["id"]]
    assert ids("status=closed") == [flagged["id"], old["id"]]
    assert ids("flagged=true") == [flagged["id"], old["id"]]  # old: late_sync, missing_check_out
    assert ids("flagged=false") == [clean["id"]]
    assert ids("min_risk=40") == [flagged["id"]]
    assert ids("bbox=121.55,31.25,121.65,31.35") == [flagged["id"]]
    assert ids("bbox=121.40,31.20,121.50,31.25") == [clean["id"], old["id"]]
    since = iso(ago(hours=3))
    assert ids(f"from={since.replace('+00:00', 'Z')}") == [clean["id"], flagged["id"]]
    assert ids(f"to={iso(ago(hours=1)).replace('+', '%2B')}") == [flagged["id"], old["id"]]


def test_date_filters_are_the_callers_local_day(api, world, shop):
    """Org A is in Asia/Shanghai (UTC+8): local 2026-11-20 is 11-19 16:00Z to 11-20 16:00Z."""
    def visit_at(moment):
        return str(fv.visit(world.rep_east, shop, in_at=moment, auto_closed_at=moment,
                            point=SHANGHAI, flags=["missing_check_out"], risk_score=15).id)

    before = visit_at(datetime(2026, 11, 19, 15, 59, tzinfo=UTC))
    first = visit_at(datetime(2026, 11, 19, 16, 0, tzinfo=UTC))
    last = visit_at(datetime(2026, 11, 20, 15, 59, tzinfo=UTC))
    after = visit_at(datetime(2026, 11, 20, 16, 0, tzinfo=UTC))
    r = api.as_(world.rep_east).get("/api/v1/visits?from=2026-11-20&to=2026-11-20")
    assert [v["id"] for v in r.json] == [last, first]
    r = api.as_(world.rep_east).get("/api/v1/visits?to=2026-11-19")
    assert [v["id"] for v in r.json] == [before]
    r = api.as_(world.rep_east).get("/api/v1/visits?from=2026-11-21")
    assert [v["id"] for v in r.json] == [after]  # 16:00Z is local midnight of the 21st


@pytest.mark.parametrize("query", ["from=yesterday", "to=2026-13-01", "from=2026-11-20T10:00:00",
                                   "status=pending", "min_risk=101", "flagged=perhaps",
                                   "bbox=1,2,3", "user_id=x", "page_size=101"])
def test_bad_list_queries_are_422(api, world, query):
    assert api.as_(world.admin).get(f"/api/v1/visits?{query}").status_code == 422
