"""GET /attendance/evidence: one user's local day as HR files it — complete, self-describing,
verified against the audit chain, and no longer verified once a row is edited in SQL."""
import hashlib
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from fieldsales.audit.models import AuditEntry
from tests import factories
from tests.attendance.helpers import local
from tests.factories.photos import make_image
from tests.visits.helpers import check_in_body, check_out_body

URL = "/api/v1/attendance/evidence"
TZ = "Asia/Shanghai"  # the world's org zone; its users have none of their own


def z(moment):
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture(autouse=True)
def photo_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_DIR", str(tmp_path / "photos"))
    monkeypatch.delitem(app.extensions, "fieldsales.photo_store", raising=False)
    yield
    app.extensions.pop("fieldsales.photo_store", None)


@pytest.fixture
def day():
    """Yesterday in the org's zone (visits are filed under the phone's past time)."""
    return datetime.now(ZoneInfo(TZ)).date() - timedelta(days=1)


def visit(api, rep, shop, at, minutes=40, photo=None):
    client = api.as_(rep)
    r = client.post("/api/v1/visits", json=check_in_body(shop, at=at))
    assert r.status_code == 201, r.json.get("errors")
    v = r.json
    if photo is not None:
        up = client.post(f"/api/v1/visits/{v['id']}/photos", content_type="multipart/form-data",
                         data={"file": (io.BytesIO(photo), "shop.jpg")})
        assert up.status_code == 201, up.json.get("errors")
    r = client.post(f"/api/v1/visits/{v['id']}/check-out",
                    json=check_out_body(point=(shop.lat or 31.23, shop.lng or 121.47),
                                        at=at + timedelta(minutes=minutes), summary="Met"))
    assert r.status_code == 200, r.json.get("errors")
    return r.json


@pytest.fixture
def story(api, world, day):
    """rep_east: a visit the day before, two visits on `day` (the first with a photo), and
    one today; rep_east2 visits on `day` too."""
    shop = factories.customer(world.org, world.rep_east, lat=31.2304, lng=121.4737,
                              name="Jinqiao Foods")
    other = factories.customer(world.org, world.rep_east, lat=None, lng=None, name="No map")
    photo = make_image(seed=7)
    before = visit(api, world.rep_east, shop, local(day - timedelta(days=1), 15))
    first = visit(api, world.rep_east, shop, local(day, 10), photo=photo)
    second = visit(api, world.rep_east, other, local(day, 14), minutes=25)
    # Today's visit must fall after local midnight even when the test runs just after it.
    today_start = local(day + timedelta(days=1), 0)
    at = max(datetime.now(UTC) - timedelta(minutes=30), today_start + timedelta(seconds=30))
    today = visit(api, world.rep_east, shop, at, minutes=1)
    visit(api, world.rep_east2, shop, local(day, 11))
    return {"shop": shop, "other": other, "photo": photo, "before": before, "first": first,
            "second": second, "today": today}


def bundle(api, who, user, day):
    return api.as_(who).get(URL, query_string={"user_id": user.id, "date": day})


def test_the_bundle_holds_the_whole_day(api, world, db, day, story):
    r = bundle(api, world.hr, world.rep_east, day)
    assert r.status_code == 200, r.json.get("errors")
    b = r.json
    assert b["user"]["id"] == str(world.rep_east.id) and b["user"]["name"] == world.rep_east.name
    assert b["date"] == day.isoformat() and b["timezone"] == TZ
    assert b["day_start"] == z(local(day, 0)) and b["day_end"] == z(local(day + timedelta(1), 0))
    assert b["generated_by"] == str(world.hr.id)

    first, second = story["first"], story["second"]
    assert [v["id"] for v in b["visits"]] == [first["id"], second["id"]]
    got = b["visits"][0]
    assert got["check_in"] == first["check_in"] and got["check_out"] == first["check_out"]
    assert got["flags"] == first["flags"] and got["summary"] == "Met"
    assert [p["sha256"] for p in got["photos"]] == [hashlib.sha256(story["photo"]).hexdigest()]
    assert got["photos"][0]["urls"]["original"].endswith("/original")
    shop = story["shop"]
    assert got["customer"] == {"id": str(shop.id), "name": "Jinqiao Foods",
                               "location": {"lat": shop.lat, "lng": shop.lng}}
    assert b["visits"][1]["customer"] == {"id": str(story["other"].id), "name": "No map",
                                          "location": None}

    row = b["attendance"]
    assert (row["status"], row["visits"], row["date"]) == ("present", 2, day.isoformat())
    assert row["first_check_in_at"] == first["check_in"]["at"]
    assert row["last_check_out_at"] == second["check_out"]["at"]

    # the entries about that day's visits and photo, written today by the API, and nothing
    # about the visits of the day before or of today
    about = {(e["action"], e["entity_id"]) for e in b["audit"]}
    photo_id = got["photos"][0]["id"]
    assert ("visit.checked_in", first["id"]) in about
    assert ("visit.checked_out", first["id"]) in about
    assert ("visit.checked_out", second["id"]) in about
    assert any(entity == photo_id for _, entity in about)
    assert not {story["before"]["id"], story["today"]["id"]} & {e for _, e in about}
    assert {e["user_id"] for e in b["audit"]} == {str(world.rep_east.id)}
    seqs = [e["seq"] for e in b["audit"]]
    assert seqs == sorted(seqs)

    last = db.scalar(select(AuditEntry).where(AuditEntry.user_id == world.rep_east.id)
                     .order_by(AuditEntry.seq.desc()).limit(1))
    total = db.scalar(select(func.count()).where(AuditEntry.user_id == world.rep_east.id))
    assert b["chain"]["verified"] is True and b["chain"]["first_bad_seq"] is None
    assert (b["chain"]["head_hash"], b["chain"]["head_seq"], b["chain"]["entries"]) == \
        (last.hash, last.seq, total)


def test_a_day_without_visits(api, world, day):
    b = bundle(api, world.admin, world.rep_west, day).json
    assert b["visits"] == [] and b["audit"] == []
    expected = "absent" if day.isoweekday() <= 5 else "off"
    assert b["attendance"]["status"] == expected
    assert b["chain"] == {**b["chain"], "verified": True, "entries": 0, "head_hash": None}


def test_a_day_that_has_not_begun_has_no_attendance_row(api, world):
    tomorrow = datetime.now(ZoneInfo(TZ)).date() + timedelta(days=1)
    b = bundle(api, world.hr, world.rep_west, tomorrow).json
    assert b["attendance"] is None and b["visits"] == []


TAMPERING = {
    "visit moved": "UPDATE visits SET in_lat = in_lat + 0.01 WHERE id = :visit",
    # A subquery shifts the time: Citus refuses `col - interval` (STABLE) in an UPDATE's SET.
    "visit time": "UPDATE visits SET in_at = (SELECT in_at - interval '2 hours' FROM visits "
                  "WHERE org_id = :org AND id = :visit) WHERE org_id = :org AND id = :visit",
    "flags wiped": "UPDATE visits SET flags = '{}', risk_score = 0 WHERE id = :visit",
    "photo swapped": "UPDATE photos SET sha256 = repeat('0', 64) WHERE visit_id = :visit",
    "entry edited": "UPDATE audit_entries SET data = data || '{\"note\": \"x\"}' "
                    "WHERE entity_id = :visit AND action = 'visit.checked_out'",
}


@pytest.mark.parametrize("statement", TAMPERING.values(), ids=TAMPERING.keys())
def test_editing_a_row_in_sql_shows_in_the_bundle(api, world, db, day, story, statement):
    assert bundle(api, world.hr, world.rep_east, day).json["chain"]["verified"] is True
    assert db.execute(text(statement), {"visit": story["first"]["id"],
                                        "org": world.org.id}).rowcount == 1
    db.commit()
    chain = bundle(api, world.hr, world.rep_east, day).json["chain"]
    assert chain["verified"] is False and isinstance(chain["first_bad_seq"], int)


# --- who may ---------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["hr", "admin", "mgr_east"])
def test_hr_admin_and_the_users_managers_get_it(api, world, day, who):
    for user in (world.rep_east, world.rep_north):
        r = bundle(api, getattr(world, who), user, day)
        assert r.status_code == 200 and r.json["user"]["id"] == str(user.id)


def test_a_manager_gets_its_own_day(api, world, day):
    r = bundle(api, world.mgr_east, world.mgr_east, day)
    assert r.status_code == 200 and r.json["user"]["id"] == str(world.mgr_east.id)


def test_a_rep_is_refused_its_own_bundle(api, world, day):
    r = bundle(api, world.rep_east, world.rep_east, day)
    assert r.status_code == 403 and r.json["error"] == "forbidden"


@pytest.mark.parametrize("outsider", ["rep_east2", "rep_west", "mgr_west", "admin_b"])
def test_outsiders_get_404(api, world, day, story, outsider):
    r = bundle(api, getattr(world, outsider), world.rep_east, day)
    assert r.status_code == 404 and r.json["error"] == "not_found"
    assert "Jinqiao" not in r.get_data(as_text=True)


@pytest.mark.parametrize("query", [
    {"date": "2026-11-20"},  # no user_id
    {"user_id": "{rep}"},  # no date
    {"user_id": "not-a-uuid", "date": "2026-11-20"},
    {"user_id": "{rep}", "date": "20-11-2026"},
    {"user_id": "{rep}", "date": "9999-12-31"},  # a day whose end Python cannot hold
])
def test_bad_queries_are_422(api, world, query):
    query = {key: value.format(rep=world.rep_east.id) for key, value in query.items()}
    r = api.as_(world.hr).get(URL, query_string=query)
    assert r.status_code == 422 and r.is_json
    assert set(r.json["errors"]["query"]) <= {"user_id", "date"}
