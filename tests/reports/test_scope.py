"""Who may read, write and review reports: outsiders get 404 on every id and date endpoint,
hr reads but never writes, reps never review."""
import pytest

from tests.factories import reports as rf

OUTSIDERS = ["rep_west", "mgr_west", "admin_b", "rep_east2"]
DAY = rf.days_ago(1)


def _report(api, world):
    return api.as_(world.rep_east).put(f"/api/v1/daily-reports/{DAY}",
                                       json={"summary": "Mine", "submit": True}).json


ENDPOINTS = [
    ("GET", "/api/v1/daily-reports/{day}?user_id={user}", None),
    ("POST", "/api/v1/daily-reports/{report}/review", {"decision": "approved"}),
]


@pytest.mark.parametrize("method, template, body", ENDPOINTS,
                         ids=[f"{m} {t}" for m, t, _ in ENDPOINTS])
@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_outsiders_get_404(api, world, method, template, body, outsider):
    report = _report(api, world)
    path = template.format(day=DAY, user=world.rep_east.id, report=report["id"])
    r = api.as_(getattr(world, outsider)).request(method, path, json=body)
    assert r.status_code == 404, (outsider, r.status_code, r.json)
    assert r.json["error"] == "not_found" and "Mine" not in r.get_data(as_text=True)
    # and the report is as it was
    assert api.as_(world.rep_east).get(f"/api/v1/daily-reports/{DAY}").json["status"] == \
        "submitted"


@pytest.mark.parametrize("insider", ["mgr_east", "admin", "hr"])
def test_insiders_read_others_reports(api, world, insider):
    report = _report(api, world)
    r = api.as_(getattr(world, insider)).get(
        f"/api/v1/daily-reports/{DAY}?user_id={world.rep_east.id}")
    assert r.status_code == 200 and r.json["id"] == report["id"]
    assert r.json["summary"] == "Mine"


def test_a_manager_reads_the_subtree_not_the_other_team(api, world):
    api.as_(world.rep_north).put(f"/api/v1/daily-reports/{DAY}", json={"summary": "North"})
    r = api.as_(world.mgr_east).get(f"/api/v1/daily-reports/{DAY}?user_id={world.rep_north.id}")
    assert r.status_code == 200 and r.json["summary"] == "North"
    r = api.as_(world.mgr_west).get(f"/api/v1/daily-reports/{DAY}?user_id={world.rep_north.id}")
    assert r.status_code == 404


def test_unknown_user_is_404(api, world):
    import uuid

    r = api.as_(world.admin).get(f"/api/v1/daily-reports/{DAY}?user_id={uuid.uuid4()}")
    assert r.status_code == 404


def test_hr_reads_but_never_writes(api, world):
    report = _report(api, world)
    r = api.as_(world.hr).put(f"/api/v1/daily-reports/{DAY}", json={"summary": "hr"})
    assert r.status_code == 403 and r.json["error"] == "forbidden"
    r = api.as_(world.hr).post(f"/api/v1/daily-reports/{report['id']}/review",
                               json={"decision": "approved"})
    assert r.status_code == 403
    listed = api.as_(world.hr).get("/api/v1/daily-reports").json
    assert [x["id"] for x in listed] == [report["id"]]


def test_a_rep_never_reviews(api, world):
    own = _report(api, world)
    r = api.as_(world.rep_east).post(f"/api/v1/daily-reports/{own['id']}/review",
                                     json={"decision": "approved"})
    assert r.status_code == 403
    other = api.as_(world.rep_east2).put(f"/api/v1/daily-reports/{DAY}",
                                         json={"submit": True}).json
    r = api.as_(world.rep_east).post(f"/api/v1/daily-reports/{other['id']}/review",
                                     json={"decision": "approved"})
    assert r.status_code == 404  # another rep's report is not even visible


def test_alerts_are_for_managers_and_admins(api, world):
    for who, expected in (("rep_east", 403), ("hr", 403), ("mgr_east", 200), ("admin", 200),
                          ("admin_b", 200)):
        r = api.as_(getattr(world, who)).get("/api/v1/alerts")
        assert r.status_code == expected, (who, r.json)
