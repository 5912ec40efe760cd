"""`fieldsales audit verify` and `audit checkpoint` as real subprocesses on committed data
(issue 10, observations 3-7). Each test removes what it tampered with, so that the org-wide
verification of the other tests stays meaningful."""
import hashlib
import io
import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from tests import factories
from tests.conftest import ApiClient
from tests.factories.photos import make_image
from tests.test_cli import run
from tests.visits.helpers import SHANGHAI, ago, check_in_body


@pytest.fixture
def rep(app, committed, monkeypatch, stores):
    """A committed rep with one visit (org of its own); its rows are removed afterwards."""
    monkeypatch.setenv("FIELDSALES_CHECKPOINT_DIR", str(stores / "checkpoints"))
    monkeypatch.setenv("FIELDSALES_PHOTO_DIR", str(stores / "photos"))
    org = factories.org()
    user = factories.user(org, "rep", factories.team(org))
    shop = factories.customer(org, user, lat=SHANGHAI[0], lng=SHANGHAI[1])
    client = ApiClient(app, user)
    visit = client.post("/api/v1/visits", json=check_in_body(shop, at=ago(minutes=30)))
    assert visit.status_code == 201
    yield {"id": user.id, "org": org.id, "client": client, "visit": visit.json["id"]}
    committed.rollback()
    for statement in ("DELETE FROM photos WHERE org_id = :o",
                      "DELETE FROM contact_records WHERE org_id = :o",
                      "DELETE FROM visits WHERE org_id = :o",
                      "DELETE FROM audit_entries WHERE org_id = :o",
                      "DELETE FROM audit_heads WHERE org_id = :o"):
        committed.execute(text(statement), {"o": org.id})
    committed.commit()


def verify(*args):
    proc = run("audit", "verify", *args, check=False)
    assert "Traceback" not in proc.stderr
    return proc.returncode, json.loads(proc.stdout) if proc.stdout else None


def tamper(committed, *statements, **params):
    for statement in statements:
        committed.execute(text(statement), params)
    committed.commit()


def kinds(result):
    return {(p["kind"], p.get("entity_id"), p.get("user_id")) for p in result["problems"]}


def test_a_deleted_chain_and_a_moved_visit_exit_1_naming_the_visit(rep, committed):
    assert verify("--user-id", str(rep["id"]))[0] == 0
    tamper(committed, "DELETE FROM audit_entries WHERE user_id = :u",
           "DELETE FROM audit_heads WHERE user_id = :u",
           "UPDATE visits SET in_lat = 39.9, in_lng = 116.4, flags = '{}', risk_score = 0 "
           "WHERE id = :v", u=rep["id"], v=rep["visit"])
    code, result = verify("--user-id", str(rep["id"]))
    assert code == 1 and result["ok"] is False
    assert ("seal_missing", rep["visit"], str(rep["id"])) in kinds(result)


def test_a_missing_head_fails_the_org_wide_run(rep, committed):
    tamper(committed, "DELETE FROM audit_heads WHERE user_id = :u", u=rep["id"])
    code, result = verify()
    assert code == 1 and ("head_missing", None, str(rep["id"])) in kinds(result)


def test_a_tail_cut_after_a_checkpoint_exits_1(rep, committed, stores):
    rep["client"].post("/api/v1/customers", json={"name": "Second"})
    out = run("audit", "checkpoint")
    written = json.loads(out.stdout)
    assert written["chains"] >= 1 and Path(written["file"]).parent == stores / "checkpoints"
    tamper(committed, "DELETE FROM audit_entries WHERE user_id = :u AND seq > 1",
           "UPDATE audit_heads h SET seq = 1, hash = e.hash FROM audit_entries e "
           "WHERE h.org_id = :o AND e.org_id = :o AND h.user_id = :u AND e.user_id = :u "
           "AND e.seq = 1", u=rep["id"], o=rep["org"])
    code, result = verify("--user-id", str(rep["id"]))
    assert code == 1
    assert [(p["kind"], p["seq"]) for p in result["problems"]] == [("checkpoint_truncated", 2)]


def test_photos_checks_the_stored_originals(rep, committed, stores):
    data = make_image(seed=7)
    up = rep["client"].post(f"/api/v1/visits/{rep['visit']}/photos",
                            content_type="multipart/form-data",
                            data={"file": (io.BytesIO(data), "p.jpg")})
    assert up.status_code == 201 and up.json["sha256"] == hashlib.sha256(data).hexdigest()
    assert verify("--user-id", str(rep["id"]), "--photos")[0] == 0
    originals = [p for p in (stores / "photos").rglob("original") if p.is_file()]
    assert len(originals) == 1
    originals[0].write_bytes(data[:-10] + b"0123456789")  # same size, other bytes
    assert verify("--user-id", str(rep["id"]))[0] == 0  # the rows are intact
    code, result = verify("--user-id", str(rep["id"]), "--photos")
    assert code == 1
    assert [(p["kind"], p["entity_id"]) for p in result["problems"]] == \
        [("photo_file_damaged", up.json["id"])]


@pytest.mark.parametrize("user_id", ["not-a-uuid", "123", "6f1c2b4e-0000-4000-8000-00000000dead"])
def test_a_bad_or_unknown_user_id_exits_2_with_a_json_error(app, user_id):
    proc = run("audit", "verify", "--user-id", user_id, check=False)
    assert proc.returncode == 2 and proc.stdout == "" and "Traceback" not in proc.stderr
    error = json.loads(proc.stderr.strip().splitlines()[-1])
    assert error["error"] == "bad_argument" and user_id in error["message"]


def test_org_id_verifies_one_org_and_names_only_its_problems(rep, committed):
    """--org-id checks one org's chains and rows: another org's tampered visit is not its
    problem, its own is; a bad or unknown id is exit 2."""
    other = factories.org()
    other_rep = factories.user(other, "rep", factories.team(other))
    committed.commit()
    code, result = verify("--org-id", str(rep["org"]))
    assert code == 0 and result["ok"] is True and result["chains"] == 1
    tamper(committed, "UPDATE visits SET note = 'edited' WHERE id = :v", v=rep["visit"])
    code, result = verify("--org-id", str(other.id))
    assert code == 0 and result["chains"] == 0
    code, result = verify("--org-id", str(rep["org"]))
    assert code == 1 and ("evidence_mismatch", rep["visit"], str(rep["id"])) in {
        (p["kind"], p.get("entity_id"), p.get("user_id")) for p in result["problems"]}
    assert verify("--org-id", "not-a-uuid")[0] == 2
    assert verify("--org-id", str(uuid.uuid4()))[0] == 2
    assert verify("--org-id", str(other.id), "--user-id", str(rep["id"]))[0] == 2
    assert verify("--org-id", str(rep["org"]), "--user-id", str(other_rep.id))[0] == 2


def test_moving_a_visit_onto_another_plan_is_caught(rep, committed):
    """plan_id is sealed with the visit (evidence version 3): pointing a visit at a plan behind
    the API's back, which would change the plan stats, fails verification."""
    plan_id = uuid.uuid4()
    tamper(committed, "INSERT INTO plans (org_id, id, user_id, kind, customer_id, planned_date, "
           "status, source, created_by) SELECT v.org_id, :p, v.user_id, 'visit', v.customer_id, "
           "current_date, 'planned', 'self', v.user_id FROM visits v WHERE v.id = :v",
           p=plan_id, v=rep["visit"])
    assert verify("--user-id", str(rep["id"]))[0] == 0
    tamper(committed, "UPDATE visits SET plan_id = :p WHERE id = :v", p=plan_id, v=rep["visit"])
    code, result = verify("--user-id", str(rep["id"]))
    tamper(committed, "UPDATE visits SET plan_id = NULL WHERE id = :v", v=rep["visit"],
           p=plan_id)
    tamper(committed, "DELETE FROM plans WHERE id = :p", p=plan_id)
    assert code == 1
    assert ("evidence_mismatch", rep["visit"], str(rep["id"])) in kinds(result)
