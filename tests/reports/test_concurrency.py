"""Submit, edit and review racing on one report: real threads, each request on its own
connection, committed data, repeated. Whatever the interleaving, the report's history (its
audit entries, in chain order) must be a legal sequence of states, the stored row must be what
the last change left (the chain verifies it), and no approved report is ever changed."""
from collections import Counter

from sqlalchemy import select

from fieldsales.audit.models import AuditEntry
from fieldsales.audit.service import verify_chain
from fieldsales.reports.models import DailyReport
from tests import factories
from tests.conftest import ApiClient, run_threads
from tests.factories import reports as rf

ROUNDS = 8

# From each state, what each action leads to (None: the report does not exist yet).
LEGAL = {
    "saved": {None: "draft", "draft": "draft", "returned": "returned"},
    "submitted": {None: "submitted", "draft": "submitted", "returned": "submitted"},
    "approved": {"submitted": "approved"},
    "returned": {"submitted": "returned"},
}


def _replay(entries):
    state = None
    for entry in entries:
        action = entry.action.removeprefix("daily_report.")
        assert state in LEGAL[action], f"{action} from {state}: {[e.action for e in entries]}"
        state = LEGAL[action][state]
        assert entry.data["status"] == state
    return state


def _moves(writer, boss, top, path, review, n):
    """Eight different changes to one submitted report, by the rep and two reviewers."""
    return [
        lambda: writer.put(path, json={"summary": f"r{n} edit a"}),
        lambda: writer.put(path, json={"summary": f"r{n} edit b", "submit": True}),
        lambda: boss.post(review, json={"decision": "approved"}),
        lambda: top.post(review, json={"decision": "returned", "comment": "again"}),
        lambda: writer.put(path, json={"plan": f"r{n} plan", "submit": True}),
        lambda: boss.post(review, json={"decision": "returned", "comment": "more"}),
        lambda: writer.put(path, json={"problems": f"r{n} problems"}),
        lambda: top.post(review, json={"decision": "approved", "comment": "ok"}),
    ]


def test_submit_edit_and_review_on_one_report_serialise(app, committed):
    org = factories.org()
    team = factories.team(org)
    manager = factories.user(org, "manager", team)
    admin = factories.user(org, "admin")
    day = rf.days_ago(1)
    path = f"/api/v1/daily-reports/{day}"
    for n in range(ROUNDS):
        rep = factories.user(org, "rep", team)
        writer, boss, top = ApiClient(app, rep), ApiClient(app, manager), ApiClient(app, admin)
        first = writer.put(path, json={"summary": f"r{n} first", "submit": True})
        review = f"/api/v1/daily-reports/{first.json['id']}/review"
        moves = _moves(writer, boss, top, path, review, n)
        results = run_threads(len(moves), lambda i, moves=moves: moves[i]())
        outcomes = Counter((r.status_code, r.json.get("error")) for r in results)
        assert set(outcomes) <= {(200, None), (409, "report_locked"),
                                 (409, "report_not_submitted")}, outcomes

        committed.expire_all()
        entries = committed.scalars(
            select(AuditEntry).where(AuditEntry.user_id == rep.id,
                                     AuditEntry.entity_type == "daily_report")
            .order_by(AuditEntry.seq)).all()
        # one entry per successful change (the bodies all differ, so no 200 is a no-op)
        assert len(entries) == 1 + outcomes[(200, None)]
        final = _replay(entries)
        stored = committed.scalars(select(DailyReport).where(DailyReport.user_id == rep.id)).one()
        assert stored.status == final
        if final == "approved":
            last_approval = max(i for i, e in enumerate(entries)
                                if e.action == "daily_report.approved")
            assert last_approval == len(entries) - 1  # nothing after the approval
        with app.app_context():
            # the row is exactly what the last entry sealed
            assert verify_chain(org_id=org.id, user_id=rep.id)["ok"] is True


def test_two_phones_saving_the_first_draft_make_one_report(app, committed):
    org = factories.org()
    team = factories.team(org)
    day = rf.days_ago(2)
    for _ in range(ROUNDS):
        rep = factories.user(org, "rep", team)
        client = ApiClient(app, rep)
        results = run_threads(6, lambda i, client=client: client.put(
            f"/api/v1/daily-reports/{day}", json={"summary": f"phone {i}"}))
        assert [r.status_code for r in results] == [200] * 6
        assert len({r.json["id"] for r in results}) == 1
        committed.expire_all()
        rows = committed.scalars(select(DailyReport).where(DailyReport.user_id == rep.id)).all()
        assert len(rows) == 1
        entries = committed.scalars(select(AuditEntry).where(
            AuditEntry.user_id == rep.id, AuditEntry.entity_type == "daily_report")).all()
        assert len(entries) == 6  # each save changed the summary after the one before
        with app.app_context():
            assert verify_chain(org_id=org.id, user_id=rep.id)["ok"] is True
