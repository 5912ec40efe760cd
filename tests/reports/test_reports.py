"""Writing and reviewing reports: drafts, submission (frozen stats, locked), review, return and
resubmission, dates the rep may write, validation, audit, and lists."""
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from fieldsales.audit.models import AuditEntry
from fieldsales.audit.service import verify_chain
from fieldsales.reports import rules
from fieldsales.reports.models import DailyReport
from tests import factories
from tests.factories import reports as rf
from tests.factories import visits as fv
from tests.visits.helpers import SHANGHAI


def url(day):
    return f"/api/v1/daily-reports/{day.isoformat()}"


@pytest.fixture
def day():
    return rf.days_ago(1)


@pytest.fixture
def shop(world):
    return factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1])


def _entries(db, user, entity_type="daily_report"):
    db.expire_all()
    return db.scalars(select(AuditEntry).where(AuditEntry.user_id == user.id,
                                               AuditEntry.entity_type == entity_type)
                      .order_by(AuditEntry.seq)).all()


def _verify(world, user):
    with factories.APP.app_context():
        return verify_chain(org_id=world.org.id, user_id=user.id)


# --- the life of a report --------------------------------------------------------------------

def test_save_a_draft_then_change_part_of_it(api, world, db, day):
    rep = api.as_(world.rep_east)
    r = rep.put(url(day), json={"summary": "Two shops", "plan": "Call Li", "problems": None})
    assert r.status_code == 200, r.json
    saved = r.json
    assert saved["id"] is not None and saved["status"] == "draft"
    assert (saved["summary"], saved["plan"], saved["problems"]) == ("Two shops", "Call Li", None)
    assert saved["submitted_at"] is None and saved["review"] is None
    # fields left out keep their value; null clears
    r = rep.put(url(day), json={"plan": None, "problems": "Printer broke"})
    assert (r.json["summary"], r.json["plan"], r.json["problems"]) == (
        "Two shops", None, "Printer broke")
    assert r.json["id"] == saved["id"]
    got = rep.get(url(day)).json
    assert got == r.json
    assert db.scalar(select(DailyReport.status).where(DailyReport.id == saved["id"])) == "draft"


def test_submission_freezes_the_numbers_and_locks_the_report(api, world, db, day, shop):
    rep = api.as_(world.rep_east)
    fv.visit(world.rep_east, shop, in_at=rf.local(day, 9), out_at=rf.local(day, 10))
    r = rep.put(url(day), json={"summary": "One shop", "submit": True})
    assert r.status_code == 200, r.json
    submitted = r.json
    assert submitted["status"] == "submitted" and submitted["submitted_at"] is not None
    assert submitted["stats"]["visits"] == 1 and len(submitted["visits"]) == 1

    # A visit synced late into that day does not change what was submitted...
    late = fv.visit(world.rep_east, shop, in_at=rf.local(day, 15), out_at=rf.local(day, 16))
    frozen = rep.get(url(day)).json
    assert frozen["stats"] == submitted["stats"] and frozen["visits"] == submitted["visits"]
    assert api.as_(world.mgr_east).get(
        f"{url(day)}?user_id={world.rep_east.id}").json["stats"]["visits"] == 1

    # ...and the report cannot be changed any more
    for body in ({"summary": "Two shops"}, {"plan": "x", "submit": True}, {"problems": "y"}):
        r = rep.put(url(day), json=body)
        assert r.status_code == 409 and r.json["error"] == "report_locked", r.json

    # Returned by the manager: live numbers again, editable, and resubmitted with the late visit
    r = api.as_(world.mgr_east).post(f"/api/v1/daily-reports/{submitted['id']}/review",
                                     json={"decision": "returned", "comment": "Add the 15:00"})
    assert r.status_code == 200 and r.json["status"] == "returned"
    assert r.json["stats"]["visits"] == 2
    r = rep.put(url(day), json={"summary": "Two shops"})
    assert r.status_code == 200 and r.json["status"] == "returned"  # edited, not yet resubmitted
    assert r.json["review"]["comment"] == "Add the 15:00"
    r = rep.put(url(day), json={"submit": True})
    assert r.status_code == 200 and r.json["status"] == "submitted"
    assert r.json["stats"]["visits"] == 2
    assert [v["id"] for v in r.json["visits"]][-1] == str(late.id)
    assert r.json["summary"] == "Two shops"


def test_a_repeated_submission_is_answered_not_refused(api, world, db, day):
    rep = api.as_(world.rep_east)
    body = {"summary": "Quiet day", "plan": "More calls", "submit": True}
    first = rep.put(url(day), json=body)
    before = len(_entries(db, world.rep_east))
    again = rep.put(url(day), json=body)
    assert again.status_code == 200 and again.json == first.json
    # a late retry of the save before it, with the same text, changes nothing either
    assert rep.put(url(day), json={"summary": "Quiet day"}).status_code == 200
    assert len(_entries(db, world.rep_east)) == before
    api.as_(world.mgr_east).post(f"/api/v1/daily-reports/{first.json['id']}/review",
                                 json={"decision": "approved"})
    assert rep.put(url(day), json=body).json["status"] == "approved"
    r = rep.put(url(day), json={**body, "summary": "Quiet day!"})
    assert r.status_code == 409 and r.json["error"] == "report_locked"


def test_review_approve_and_what_follows(api, world, db, day):
    rep = api.as_(world.rep_east)
    report = rep.put(url(day), json={"summary": "Done", "submit": True}).json
    review = f"/api/v1/daily-reports/{report['id']}/review"
    r = api.as_(world.mgr_east).post(review, json={"decision": "approved", "comment": "Good"})
    assert r.status_code == 200, r.json
    approved = r.json
    assert approved["status"] == "approved"
    assert approved["review"]["by"] == str(world.mgr_east.id)
    assert approved["review"]["comment"] == "Good"
    assert approved["review"]["decision"] == "approved" and approved["review"]["at"]
    assert rep.get(url(day)).json == approved
    # the same review again (a retry) is answered; any other is refused
    assert api.as_(world.mgr_east).post(review, json={"decision": "approved",
                                                      "comment": "Good"}).json == approved
    for who, body in ((world.mgr_east, {"decision": "returned", "comment": "Wait"}),
                      (world.admin, {"decision": "approved", "comment": "Good"})):
        r = api.as_(who).post(review, json=body)
        assert r.status_code == 409 and r.json["error"] == "report_not_submitted", r.json
    r = rep.put(url(day), json={"summary": "Changed after approval"})
    assert r.status_code == 409 and r.json["error"] == "report_locked"


def test_only_submitted_reports_can_be_reviewed(api, world, day):
    draft = api.as_(world.rep_east).put(url(day), json={"summary": "WIP"}).json
    r = api.as_(world.mgr_east).post(f"/api/v1/daily-reports/{draft['id']}/review",
                                     json={"decision": "approved"})
    assert r.status_code == 409 and r.json["error"] == "report_not_submitted"
    returned = rf.report(world.rep_east, day - timedelta(days=1), status="returned",
                         reviewer=world.mgr_east)
    r = api.as_(world.mgr_east).post(f"/api/v1/daily-reports/{returned.id}/review",
                                     json={"decision": "approved"})
    assert r.status_code == 409 and r.json["error"] == "report_not_submitted"


def test_who_may_review(api, world, day):
    """The rep's managers (up the tree) and admins; never the author, never hr."""
    def submitted(user, when):
        return api.as_(user).put(url(when), json={"submit": True}).json["id"]

    cases = [
        (world.rep_east, world.rep_east, 403),   # a rep reviewing its own report
        (world.rep_east, world.hr, 403),         # hr is read-only
        (world.rep_east, world.mgr_east, 200),
        (world.rep_north, world.mgr_east, 200),  # North is below East
        (world.rep_west, world.admin, 200),
        (world.mgr_east, world.mgr_east, 403),   # a manager's own report
        (world.mgr_east, world.admin, 200),
    ]
    for n, (author, reviewer, expected) in enumerate(cases):
        report_id = submitted(author, day - timedelta(days=n % 7))
        r = api.as_(reviewer).post(f"/api/v1/daily-reports/{report_id}/review",
                                   json={"decision": "approved"})
        assert r.status_code == expected, (author.role, reviewer.role, r.json)
        if expected == 403:
            assert r.json["error"] == "forbidden"


# --- dates -----------------------------------------------------------------------------------

def test_dates_after_the_reps_today_are_422(api, world):
    tomorrow = rf.today() + timedelta(days=1)
    for r in (api.as_(world.rep_east).get(url(tomorrow)),
              api.as_(world.rep_east).put(url(tomorrow), json={"summary": "x"}),
              api.as_(world.mgr_east).get(f"{url(tomorrow)}?user_id={world.rep_east.id}")):
        assert r.status_code == 422 and r.json["error"] == "date_in_future", r.json
        assert "date" in r.json["errors"]["path"]


def test_today_is_the_reps_today(api, world):
    """Kiritimati (UTC+14) is a day ahead of most of the world: its rep may write a report for
    a date that has not begun yet in Shanghai, a rep in Honolulu (UTC-10) may not."""
    ahead = factories.user(world.org, "rep", world.east, timezone="Pacific/Kiritimati")
    behind = factories.user(world.org, "rep", world.east, timezone="Pacific/Honolulu")
    their_today = rf.today("Pacific/Kiritimati")
    assert api.as_(ahead).put(url(their_today), json={"summary": "x"}).status_code == 200
    assert rf.today("Pacific/Honolulu") < their_today
    r = api.as_(behind).put(url(their_today), json={"summary": "x"})
    assert r.status_code == 422 and r.json["error"] == "date_in_future"


def test_how_far_back_a_rep_may_write(api, world, db):
    rep = api.as_(world.rep_east)
    oldest = rf.days_ago(rules.WRITE_BACK_DAYS)
    assert rep.put(url(oldest), json={"summary": "catching up"}).status_code == 200
    too_old = oldest - timedelta(days=1)
    r = rep.put(url(too_old), json={"summary": "too late"})
    assert r.status_code == 422 and r.json["error"] == "report_too_old"
    assert db.scalar(select(DailyReport.id).where(DailyReport.user_id == world.rep_east.id,
                                                  DailyReport.day == too_old)) is None
    # reading an old day is fine, and a returned report can be fixed whatever its age
    assert rep.get(url(too_old)).status_code == 200
    rf.report(world.rep_east, too_old, status="returned", reviewer=world.mgr_east)
    r = rep.put(url(too_old), json={"summary": "fixed", "submit": True})
    assert r.status_code == 200 and r.json["status"] == "submitted"


@pytest.mark.parametrize("bad", ["2026-02-30", "yesterday", "2026-1-5", "20260105",
                                 "1999-12-31"])
def test_bad_dates_are_422(api, world, bad):
    for r in (api.as_(world.rep_east).get(f"/api/v1/daily-reports/{bad}"),
              api.as_(world.rep_east).put(f"/api/v1/daily-reports/{bad}", json={})):
        assert r.status_code == 422, (bad, r.status_code)
        assert "date" in r.json["errors"]["path"]


def test_body_validation(api, world, day):
    rep = api.as_(world.rep_east)
    for body, field in (({"summary": "x" * 5001}, "summary"), ({"status": "approved"}, "status"),
                        ({"submit": "maybe"}, "submit"), ({"user_id": str(world.rep_west.id)},
                                                          "user_id")):
        r = rep.put(url(day), json=body)
        assert r.status_code == 422 and field in r.json["errors"]["json"], (body, r.json)
    report = rep.put(url(day), json={"submit": True}).json
    review = f"/api/v1/daily-reports/{report['id']}/review"
    for body, field in (({"decision": "rejected"}, "decision"), ({}, "decision"),
                        ({"decision": "returned"}, "comment"),
                        ({"decision": "returned", "comment": "  "}, "comment")):
        r = api.as_(world.mgr_east).post(review, json=body)
        assert r.status_code == 422 and field in r.json["errors"]["json"], (body, r.json)
    assert rep.get(url(day)).json["status"] == "submitted"


# --- audit -----------------------------------------------------------------------------------

def test_every_change_is_on_the_reps_chain_with_who_did_it(api, world, db, day):
    rep = api.as_(world.rep_east)
    report_id = rep.put(url(day), json={"summary": "a"}).json["id"]
    rep.put(url(day), json={"summary": "b", "submit": True})
    api.as_(world.mgr_east).post(f"/api/v1/daily-reports/{report_id}/review",
                                 json={"decision": "returned", "comment": "more"})
    rep.put(url(day), json={"summary": "c", "submit": True})
    api.as_(world.admin).post(f"/api/v1/daily-reports/{report_id}/review",
                              json={"decision": "approved"})
    entries = _entries(db, world.rep_east)
    assert [(e.action, e.actor_id, e.data["status"]) for e in entries] == [
        ("daily_report.saved", world.rep_east.id, "draft"),
        ("daily_report.submitted", world.rep_east.id, "submitted"),
        ("daily_report.returned", world.mgr_east.id, "returned"),
        ("daily_report.submitted", world.rep_east.id, "submitted"),
        ("daily_report.approved", world.admin.id, "approved"),
    ]
    assert {str(e.entity_id) for e in entries} == {report_id}
    assert entries[1].data["stats"]["visits"] == 0 and entries[1].data["changed"] == ["summary"]
    assert entries[2].data["comment"] == "more"
    # nothing landed on the reviewers' chains
    assert _entries(db, world.mgr_east) == [] and _entries(db, world.admin) == []
    assert _verify(world, world.rep_east)["ok"] is True


@pytest.mark.parametrize("tamper", [
    "UPDATE daily_reports SET summary = 'I visited ten shops' WHERE id = :id",
    "UPDATE daily_reports SET status = 'approved', review_decision = 'approved', "
    "reviewed_by = user_id, reviewed_at = now() WHERE id = :id",
    "UPDATE daily_reports SET frozen_stats = jsonb_set(frozen_stats, '{visits}', '9') "
    "WHERE id = :id",
])
def test_editing_a_report_in_sql_breaks_verification(api, world, db, day, tamper):
    report_id = api.as_(world.rep_east).put(url(day), json={"summary": "a", "submit": True}
                                            ).json["id"]
    assert _verify(world, world.rep_east)["ok"] is True
    db.execute(text(tamper), {"id": report_id})
    db.commit()
    result = _verify(world, world.rep_east)
    assert result["ok"] is False and result["first_bad_seq"] is not None


# --- lists -----------------------------------------------------------------------------------

def test_lists_follow_scope_and_filters(api, world, day):
    older = day - timedelta(days=1)
    mine = {}
    for user in (world.rep_east, world.rep_north, world.rep_west):
        api.as_(user).put(url(older), json={"summary": "old"})
        mine[user.id] = api.as_(user).put(url(day), json={"summary": "new", "submit": True}
                                          ).json["id"]

    def listed(who, query=""):
        r = api.as_(who).get(f"/api/v1/daily-reports?page_size=100{query}")
        assert r.status_code == 200, r.json
        return [(x["user_id"], x["date"], x["status"]) for x in r.json]

    east = listed(world.mgr_east)
    assert {u for u, _, _ in east} == {str(world.rep_east.id), str(world.rep_north.id)}
    assert [d for _, d, _ in east] == sorted((d for _, d, _ in east), reverse=True)
    assert len(listed(world.admin)) == 6 and len(listed(world.hr)) == 6
    assert listed(world.admin_b) == []
    # reps: their own only, whatever they ask for
    assert {u for u, _, _ in listed(world.rep_east)} == {str(world.rep_east.id)}
    assert listed(world.rep_east, f"&user_id={world.rep_west.id}") == []

    assert {s for _, _, s in listed(world.admin, "&status=submitted")} == {"submitted"}
    assert len(listed(world.admin, "&status=draft")) == 3
    assert listed(world.admin, f"&from={day}&to={day}") == listed(world.admin,
                                                                   "&status=submitted")
    assert {d for _, d, _ in listed(world.admin, f"&to={older}")} == {older.isoformat()}
    assert {u for u, _, _ in listed(world.admin, f"&team_id={world.north.id}")} == {
        str(world.rep_north.id)}
    assert {u for u, _, _ in listed(world.admin, f"&team_id={world.east.id}")} == {
        str(world.rep_east.id), str(world.rep_north.id)}
    assert listed(world.mgr_east, f"&team_id={world.west.id}") == []
    assert len(listed(world.admin, f"&user_id={world.rep_west.id}")) == 2


def test_list_items_carry_their_numbers_and_pages(api, world, day, shop):
    fv.visit(world.rep_east, shop, in_at=rf.local(day, 9), out_at=rf.local(day, 9, 30))
    api.as_(world.rep_east).put(url(day), json={"submit": True})
    api.as_(world.rep_east).put(url(day - timedelta(days=1)), json={"summary": "draft"})
    fv.visit(world.rep_east, shop, in_at=rf.local(day - timedelta(days=1), 9),
             out_at=rf.local(day - timedelta(days=1), 10))
    fv.visit(world.rep_east, shop, in_at=rf.local(day - timedelta(days=1), 11),
             out_at=rf.local(day - timedelta(days=1), 12))
    r = api.as_(world.mgr_east).get(f"/api/v1/daily-reports?user_id={world.rep_east.id}")
    items = r.json
    assert [(x["status"], x["stats"]["visits"], len(x["visits"])) for x in items] == [
        ("submitted", 1, 1), ("draft", 2, 2)]
    assert items[1]["stats"]["working_minutes"] == 180
    r = api.as_(world.mgr_east).get(
        f"/api/v1/daily-reports?user_id={world.rep_east.id}&page_size=1&page=2")
    assert [x["status"] for x in r.json] == ["draft"]
    assert '"total": 2' in r.headers["X-Pagination"]


def test_list_validation(api, world):
    for query in ("from=2026-13-01", "to=nope", "status=lost", "from=2026-03-05&to=2026-03-01",
                  "page_size=101"):
        r = api.as_(world.admin).get(f"/api/v1/daily-reports?{query}")
        assert r.status_code == 422, (query, r.status_code)
