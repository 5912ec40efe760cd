"""The HMAC chain: appends are ordered per user, and any edit behind the API is detected."""
import uuid

from sqlalchemy import func, select, text

from fieldsales import audit
from fieldsales.audit.models import AuditEntry
from fieldsales.audit.service import verify_chain
from tests import factories
from tests.conftest import ApiClient, run_threads


def test_state_changes_write_chained_entries(api, world, db):
    rep = api.as_(world.rep_east)
    c = rep.post("/api/v1/customers", json={"name": "Chained"}).json
    rep.patch(f"/api/v1/customers/{c['id']}", json={"name": "Chained 2"})
    entries = db.scalars(select(AuditEntry).where(AuditEntry.user_id == world.rep_east.id)
                         .order_by(AuditEntry.seq)).all()
    assert [e.action for e in entries] == ["customer.created", "customer.updated"]
    assert [e.seq for e in entries] == [1, 2]
    assert entries[1].prev_hash == entries[0].hash
    assert entries[1].data == {"name": "Chained 2"}
    assert _verify(world)["ok"] is True


def _verify(world):
    from tests.factories import APP

    with APP.app_context():
        return verify_chain(org_id=world.org.id, user_id=world.rep_east.id)


def _three_entries(db, world):
    from tests.factories import APP

    with APP.app_context():
        _append_three(db, world)


def _append_three(db, world):
    for i in range(3):
        audit.record(org_id=world.org.id, user_id=world.rep_east.id, actor_id=world.rep_east.id,
                     action="test.event", entity_type="test", entity_id=uuid.uuid4(),
                     data={"i": i})
    db.commit()


def test_editing_an_entry_in_sql_is_detected(world, db):
    _three_entries(db, world)
    db.execute(text("UPDATE audit_entries SET data = '{\"i\": 99}' "
                    "WHERE user_id = :u AND seq = 2"), {"u": world.rep_east.id})
    result = _verify(world)
    assert result["ok"] is False and result["first_bad_seq"] == 2


def test_deleting_the_last_entry_is_detected(world, db):
    _three_entries(db, world)
    db.execute(text("DELETE FROM audit_entries WHERE user_id = :u AND seq = 3"),
               {"u": world.rep_east.id})
    assert _verify(world)["ok"] is False


def test_rehashing_without_the_key_is_detected(world, db):
    """Recomputing the hash with a guessed key does not help a forger."""
    import hashlib
    import hmac

    _three_entries(db, world)
    e = db.scalar(select(AuditEntry).where(AuditEntry.user_id == world.rep_east.id,
                                           AuditEntry.seq == 3))
    forged = hmac.new(b"guess", b"x", hashlib.sha256).hexdigest()
    db.execute(text("UPDATE audit_entries SET hash = :h WHERE id = :id"),
               {"h": forged, "id": e.id})
    assert _verify(world)["first_bad_seq"] == 3


def test_parallel_appends_to_one_chain_stay_contiguous(app, committed):
    """Many writers at once on one user's chain: seq 1..N with no gaps or forks."""
    org = factories.org()
    team = factories.team(org)
    rep = factories.user(org, "rep", team)
    client = ApiClient(app, rep)
    codes = run_threads(16, lambda i: client.post("/api/v1/customers",
                                                  json={"name": f"C{i}"}).status_code)
    assert codes == [201] * 16
    seqs = committed.scalars(select(AuditEntry.seq).where(AuditEntry.user_id == rep.id)
                             .order_by(AuditEntry.seq)).all()
    assert seqs == list(range(1, 17))
    with app.app_context():
        assert verify_chain(org_id=org.id, user_id=rep.id)["ok"] is True
    assert committed.scalar(select(func.count()).where(AuditEntry.org_id == org.id)) == 16
