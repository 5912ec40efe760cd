"""Verification checks completeness, not only consistency (issue 10, observations 3-6): rows
without their seal, chains without their head, chains cut below a checkpoint, created_at."""
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from fieldsales.audit.models import AuditEntry

from tests import factories
from tests.factories.photos import make_image
from tests.visits.helpers import SHANGHAI, ago, check_in_body, check_out_body


def verify(**kw):
    from fieldsales.audit.verify import verify as run

    with factories.APP.app_context():
        return run(**kw)


def chain_of(world):
    """One rep's chain and rows, through the function the evidence bundle calls."""
    from fieldsales.audit.service import verify_chain

    with factories.APP.app_context():
        return verify_chain(org_id=world.org.id, user_id=world.rep_east.id)


def named(result, kind):
    """The problems of one kind."""
    return [p for p in result["problems"] if p["kind"] == kind]


@pytest.fixture
def shop(world):
    return factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1])


def checked_in(api, rep, shop, **kw):
    r = api.as_(rep).post("/api/v1/visits", json=check_in_body(shop, at=ago(minutes=30), **kw))
    assert r.status_code == 201, r.json
    return r.json


def visit_day(v):
    at = datetime.fromisoformat(v["check_in"]["at"].replace("Z", "+00:00"))
    return at.astimezone(ZoneInfo("Asia/Shanghai")).date()


# --- observation 3: a whole chain deleted --------------------------------------------------

def test_deleting_a_whole_chain_and_moving_a_visit_is_found_everywhere(api, world, db, shop):
    v = checked_in(api, world.rep_east, shop, mock_location=True)
    api.as_(world.rep_east).post(f"/api/v1/visits/{v['id']}/check-out",
                                 json=check_out_body(summary="Met"))
    rep = world.rep_east.id
    assert chain_of(world)["ok"] is True
    db.execute(text("DELETE FROM audit_entries WHERE user_id = :u"), {"u": rep})
    db.execute(text("DELETE FROM audit_heads WHERE user_id = :u"), {"u": rep})
    db.execute(text("UPDATE visits SET in_lat = 39.9, in_lng = 116.4, out_lat = 39.9, "
                    "out_lng = 116.4, flags = '{}', risk_score = 0 WHERE id = :id"),
               {"id": v["id"]})
    db.commit()
    result = chain_of(world)
    assert result["ok"] is False
    assert [(p["entity_type"], p["entity_id"]) for p in named(result, "seal_missing")] == \
        [("visit", v["id"])]
    hr = api.as_(world.hr)
    by_api = hr.get(f"/api/v1/audit/verify?user_id={rep}").json
    assert by_api["ok"] is False and by_api["problems"] == result["problems"]
    assert hr.get("/api/v1/audit/verify").json["ok"] is False
    chain = hr.get("/api/v1/attendance/evidence",
                   query_string={"user_id": rep, "date": visit_day(v)}).json["chain"]
    assert chain["verified"] is False


# --- observation 4: a missing head -----------------------------------------------------------

def test_a_chain_without_its_head_is_still_verified_org_wide(api, world, db, shop):
    checked_in(api, world.rep_east, shop)
    api.as_(world.rep_east).post("/api/v1/customers", json={"name": "Two"})
    rep = world.rep_east.id
    db.execute(text("DELETE FROM audit_heads WHERE user_id = :u"), {"u": rep})
    db.execute(text("UPDATE audit_entries SET data = data || '{\"x\": 1}' "
                    "WHERE user_id = :u AND seq = 2"), {"u": rep})
    db.commit()
    result = api.as_(world.hr).get("/api/v1/audit/verify").json
    assert result["ok"] is False
    assert {(p["kind"], p["user_id"], p["seq"]) for p in result["problems"]} >= {
        ("head_missing", str(rep), 2), ("entry_tampered", str(rep), 2)}


def test_a_head_without_entries_names_the_deleted_chain(api, world, db):
    api.as_(world.rep_east).post("/api/v1/customers", json={"name": "Gone"})
    db.execute(text("DELETE FROM audit_entries WHERE user_id = :u"), {"u": world.rep_east.id})
    result = verify(org_id=world.org.id)
    assert [(p["kind"], p["seq"]) for p in result["problems"]] == [("entries_missing", 1)]


# --- observation 5: the tail cut, the head rewound -------------------------------------------

def _cut_tail(db, org_id, user_id, keep):
    db.execute(text("DELETE FROM audit_entries WHERE org_id = :o AND user_id = :u AND seq > :k"),
               {"o": org_id, "u": user_id, "k": keep})
    # Joined on org_id too: Citus routes the statement by it.
    db.execute(text("UPDATE audit_heads h SET seq = e.seq, hash = e.hash FROM audit_entries e "
                    "WHERE h.org_id = :o AND e.org_id = :o AND h.user_id = :u "
                    "AND e.user_id = :u AND e.seq = :k"), {"o": org_id, "u": user_id, "k": keep})


def _customers(api, user, n):
    for i in range(n):
        # a name nobody has (one company name, one customer: the duplicate guard)
        name = f"C{i} {uuid.uuid4().hex[:8]}"
        assert api.as_(user).post("/api/v1/customers", json={"name": name}).status_code == 201


def test_a_tail_cut_below_the_checkpoint_is_found(api, world, db, stores):
    from fieldsales.audit.checkpoint import write_checkpoint

    _customers(api, world.rep_east, 4)
    with factories.APP.app_context():
        written = write_checkpoint()
    assert written["chains"] >= 1 and written["file"].startswith(str(stores / "checkpoints"))
    _cut_tail(db, world.org.id, world.rep_east.id, keep=2)
    result = verify(org_id=world.org.id, user_id=world.rep_east.id)
    assert [(p["kind"], p["seq"]) for p in result["problems"]] == [("checkpoint_truncated", 3)]
    assert result["checkpoint"] == written["file"].rsplit("/", 1)[1]


def test_a_chain_rewound_and_grown_again_diverges_from_the_checkpoint(api, world, db):
    from fieldsales.audit.checkpoint import write_checkpoint

    _customers(api, world.rep_east, 3)
    with factories.APP.app_context():
        write_checkpoint()
    _cut_tail(db, world.org.id, world.rep_east.id, keep=1)
    db.commit()  # keep the cut past the next request's session teardown
    _customers(api, world.rep_east, 3)  # seq 2..4 again, validly chained, but not the same
    result = verify(org_id=world.org.id, user_id=world.rep_east.id)
    assert [(p["kind"], p["seq"]) for p in result["problems"]] == [("checkpoint_diverged", 3)]


def test_a_forged_checkpoint_is_a_problem_and_old_files_are_never_rewritten(api, world, db,
                                                                             stores):
    from fieldsales.audit.checkpoint import write_checkpoint

    _customers(api, world.rep_east, 2)
    with factories.APP.app_context():
        first = write_checkpoint()["file"]
        kept = Path(first).read_text(encoding="utf-8")
        second = write_checkpoint()["file"]
    assert first != second and Path(first).read_text(encoding="utf-8") == kept
    doc = json.loads(Path(second).read_text(encoding="utf-8"))
    for chain in doc["chains"]:
        chain["seq"] = 1  # lower the mark to hide a cut
    Path(second).write_text(json.dumps(doc), encoding="utf-8")
    result = verify(org_id=world.org.id)
    assert [p["kind"] for p in result["problems"]] == ["checkpoint_invalid"]


# --- observation 6: created_at is sealed -----------------------------------------------------

def test_a_visits_created_at_is_sealed(api, world, db, shop):
    v = checked_in(api, world.rep_east, shop)
    assert chain_of(world)["ok"] is True
    # A subquery shifts the time: Citus refuses `col - interval` (STABLE) in an UPDATE's SET.
    db.execute(text("UPDATE visits SET created_at = (SELECT created_at - interval '1 day' "
                    "FROM visits WHERE org_id = :org AND id = :id) "
                    "WHERE org_id = :org AND id = :id"), {"id": v["id"], "org": world.org.id})
    result = chain_of(world)
    assert result["ok"] is False
    assert [(p["kind"], p["entity_id"]) for p in result["problems"]] == \
        [("evidence_mismatch", v["id"])]


def test_a_photos_created_at_is_sealed(api, world, db, shop):
    v = checked_in(api, world.rep_east, shop)
    up = api.as_(world.rep_east).post(
        f"/api/v1/visits/{v['id']}/photos", content_type="multipart/form-data",
        data={"file": (io.BytesIO(make_image(seed=3)), "p.jpg")})
    assert up.status_code == 201, up.json
    assert chain_of(world)["ok"] is True
    db.execute(text("UPDATE photos SET created_at = (SELECT created_at + interval '1 hour' "
                    "FROM photos WHERE org_id = :org AND id = :id) "
                    "WHERE org_id = :org AND id = :id"), {"id": up.json["id"], "org": world.org.id})
    result = chain_of(world)
    assert result["ok"] is False
    assert [(p["kind"], p["entity_id"]) for p in result["problems"]] == \
        [("evidence_mismatch", up.json["id"])]


# --- daily reports, photos and lead events without their seal -------------------------------

def test_rows_inserted_behind_the_api_have_no_seal(world, db):
    from tests.factories.visits import day_visit
    from tests.factories import reports as rf
    from tests.factories import photos as fp

    shop = factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1])
    visit = day_visit(world.rep_east, shop, at=datetime.now(UTC) - timedelta(days=1))
    photo = fp.photo(visit)
    report = rf.report(world.rep_east, rf.days_ago(1))
    result = verify(org_id=world.org.id)
    assert sorted((p["kind"], p["entity_type"], p["entity_id"]) for p in result["problems"]) \
        == sorted([("seal_missing", "visit", str(visit.id)),
                   ("seal_missing", "photo", str(photo.id)),
                   ("seal_missing", "daily_report", str(report.id))])


def test_lead_events_are_sealed_one_by_one(api, world, db):
    from tests.factories import leads as lf

    pool = lf.pool(world.org)
    lead = lf.lead(world.org, pool)
    assert api.as_(world.rep_east).post(f"/api/v1/leads/{lead.id}/claim").status_code == 200
    near = lf.lead(world.org, pool)
    r = api.as_(world.rep_west).post(f"/api/v1/lead-pools/{pool.id}/claim-next", json={})
    assert r.status_code == 200 and r.json["id"] == str(near.id)
    assert verify(org_id=world.org.id)["ok"] is True
    claimed, gone = (db.execute(text("SELECT id FROM lead_events WHERE lead_id = :l"),
                                {"l": x.id}).scalar_one() for x in (lead, near))
    db.execute(text("UPDATE lead_events SET to_user_id = :u WHERE id = :id"),
               {"u": world.rep_west.id, "id": claimed})
    db.execute(text("DELETE FROM lead_events WHERE id = :id"), {"id": gone})
    fake = uuid.uuid4()
    db.execute(text("INSERT INTO lead_events (id, org_id, lead_id, at, action, actor_id, "
                    "to_user_id) VALUES (:id, :o, :l, now(), 'assigned', :u, :u)"),
               {"id": fake, "o": world.org.id, "l": lead.id, "u": world.rep_west.id})
    result = verify(org_id=world.org.id)
    assert sorted((p["kind"], p["entity_type"], p["entity_id"]) for p in result["problems"]) \
        == sorted([("evidence_mismatch", "lead_event", str(claimed)),
                   ("sealed_row_missing", "lead_event", str(gone)),
                   ("seal_missing", "lead_event", str(fake))])


def test_an_import_is_sealed_by_its_digest(api, world, db):
    from tests.factories import leads as lf

    pool = lf.pool(world.org, world.east)
    body = "name,phone\nA,13800000011\nB,13800000012\n"
    r = api.as_(world.admin).request("POST", f"/api/v1/lead-pools/{pool.id}/import",
                                     data=body.encode(), headers={"Content-Type": "text/csv"})
    assert r.status_code == 200 and r.json["created"] == 2
    assert verify(org_id=world.org.id)["ok"] is True
    events = db.execute(text("SELECT e.id FROM lead_events e JOIN leads l "
                             "ON l.org_id = e.org_id AND l.id = e.lead_id "
                             "WHERE l.org_id = :o AND l.pool_id = :p ORDER BY e.id"),
                        {"o": world.org.id, "p": pool.id}).scalars().all()
    db.execute(text("DELETE FROM lead_events WHERE id = :id"), {"id": events[0]})
    result = verify(org_id=world.org.id)
    assert sorted((p["kind"], p.get("entity_id"), p.get("user_id")) for p in result["problems"]) \
        == [("seal_missing", str(events[1]), None),
            ("sealed_row_missing", None, str(world.admin.id))]



# --- the upgrade: entries written by the previous code still verify --------------------------

@pytest.fixture
def old_history(world, db):
    """What the previous code wrote: a visit sealed without created_at or evidence_version,
    lead events not sealed one by one (a `lead.claimed` entry about the lead, an import's
    entry holding the digest of its lead ids)."""
    import hashlib

    from fieldsales import audit
    from fieldsales.audit.service import evidence_digest
    from fieldsales.leads.models import LeadEvent
    from fieldsales.visits.service import evidence
    from tests.factories.visits import day_visit
    from tests.factories import leads as lf

    rep, admin = world.rep_east, world.admin
    shop = factories.customer(world.org, rep, lat=SHANGHAI[0], lng=SHANGHAI[1])
    visit = day_visit(rep, shop, at=datetime.now(UTC) - timedelta(days=1))
    pool = lf.pool(world.org)
    lead = lf.lead(world.org, pool, owner=rep)
    imported = [lf.lead(world.org, pool) for _ in range(2)]
    now = datetime.now(UTC)
    claimed = LeadEvent(id=uuid.uuid4(), org_id=world.org.id, lead_id=lead.id, at=now,
                        action="claimed", actor_id=rep.id, to_user_id=rep.id)
    events = [LeadEvent(id=uuid.uuid4(), org_id=world.org.id, lead_id=x.id, at=now,
                        action="imported", actor_id=admin.id) for x in imported]
    db.add_all([claimed, *events])
    old_form = evidence(visit, version=1)
    assert "created_at" not in old_form
    with factories.APP.app_context():
        audit.record(org_id=world.org.id, user_id=rep.id, actor_id=rep.id,
                     action="visit.checked_in", entity_type="visit", entity_id=visit.id,
                     data={"customer_id": shop.id, "flags": [],
                           "evidence_sha256": evidence_digest(old_form)})
        audit.record(org_id=world.org.id, user_id=rep.id, actor_id=rep.id,
                     action="lead.claimed", entity_type="lead", entity_id=lead.id,
                     data={"pool_id": pool.id})
        ids = "\n".join(sorted(str(x.id) for x in imported))
        audit.record(org_id=world.org.id, user_id=admin.id, actor_id=admin.id,
                     action="lead.imported", entity_type="lead_pool", entity_id=pool.id,
                     data={"created": 2, "duplicates": 0, "errors": 0,
                           "lead_ids_sha256": hashlib.sha256(ids.encode()).hexdigest()})
        db.commit()
    return {"visit": visit.id, "claimed": claimed.id, "lead": lead.id,
            "imported": events[0].id, "other_lead": imported[1].id, "rep": rep.id}


def test_entries_written_before_the_upgrade_still_verify(world, db, old_history):
    entries = db.scalars(select(AuditEntry.data).where(AuditEntry.org_id == world.org.id)).all()
    assert entries and not any("evidence_version" in d or "lead_event_id" in d for d in entries)
    result = verify(org_id=world.org.id)
    assert (result["ok"], result["problems"], result["entries"]) == (True, [], 3)


OLD_TAMPERING = {
    "visit moved": ("UPDATE visits SET in_lat = in_lat + 0.01 WHERE id = :visit",
                    ("evidence_mismatch", "visit", "visit")),
    "claim deleted": ("DELETE FROM lead_events WHERE id = :claimed",
                      ("sealed_row_missing", "lead", "lead")),
    "claim added": ("INSERT INTO lead_events (id, org_id, lead_id, at, action, actor_id, "
                    "to_user_id) SELECT gen_random_uuid(), org_id, lead_id, at, action, "
                    "actor_id, to_user_id FROM lead_events WHERE id = :claimed",
                    ("seal_missing", "lead_event", None)),
    "import moved": ("UPDATE lead_events SET lead_id = :lead WHERE id = :imported",
                     ("seal_missing", "lead_event", None)),
}


@pytest.mark.parametrize("statement, expected", OLD_TAMPERING.values(), ids=OLD_TAMPERING.keys())
def test_entries_written_before_the_upgrade_still_catch_tampering(world, db, old_history,
                                                                  statement, expected):
    db.execute(text(statement), old_history)
    result = verify(org_id=world.org.id)
    kind, entity_type, named_id = expected
    assert result["ok"] is False
    assert (kind, entity_type) in {(p["kind"], p.get("entity_type")) for p in result["problems"]}
    if named_id:
        assert str(old_history[named_id]) in {p.get("entity_id") for p in result["problems"]}
