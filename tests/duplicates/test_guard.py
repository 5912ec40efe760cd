"""The duplicate guard (撞单) through the API: customers and leads, pooled leads included, on
create and on edit; dead and converted leads hold nothing; GET /duplicates masks like leads."""
import pytest
from sqlalchemy import func, select, text

from fieldsales.duplicates.models import PartyKey
from fieldsales.leads import rules
from tests import factories
from tests.factories import leads as lf


def _customer(api, user, **fields):
    return api.as_(user).post("/api/v1/customers", json={"name": "Acme Trading", **fields})


def test_a_pooled_leads_phone_typed_in_as_a_new_customer_is_refused(api, world):
    pool = lf.pool(world.org, world.east)
    lf.lead(world.org, pool, phone_number="138 1234 5678")
    r = _customer(api, world.rep_east, phone="+86 138-1234-5678")
    assert r.status_code == 409, r.json
    assert (r.json["error"], r.json["kind"], r.json["owner"]) == ("duplicate_lead", "phone", None)


def test_a_claimed_leads_phone_names_its_owner(api, world):
    pool = lf.pool(world.org, world.east)
    lf.lead(world.org, pool, world.rep_east2, phone_number="13812345678")
    r = _customer(api, world.rep_east, phone="0086 13812345678")
    assert r.status_code == 409
    assert r.json["owner"] == {"id": str(world.rep_east2.id), "name": world.rep_east2.name}


def test_a_customers_phone_and_name_refuse_a_new_lead_and_a_new_customer(api, world):
    factories.customer(world.org, world.rep_west, name="Jinqiao  FOODS", phone="021-6123-4567")
    pool = lf.pool(world.org, world.east)
    r = api.as_(world.mgr_east).post("/api/v1/leads", json={
        "pool_id": str(pool.id), "name": "Li", "phone": "(021) 61234567"})
    assert r.status_code == 409
    assert (r.json["error"], r.json["kind"]) == ("duplicate_customer", "phone")
    assert r.json["owner"] == {"id": str(world.rep_west.id), "name": world.rep_west.name}
    r = api.as_(world.mgr_east).post("/api/v1/leads", json={
        "pool_id": str(pool.id), "name": "Li", "company": "jinqiao foods "})
    assert (r.status_code, r.json["error"], r.json["kind"]) == (409, "duplicate_customer",
                                                                 "company")
    r = _customer(api, world.rep_east, name="ＪＩＮＱＩＡＯ Foods")  # full width, other case
    assert (r.status_code, r.json["error"]) == (409, "duplicate_customer")


def test_editing_a_customer_onto_someone_elses_phone_is_refused_and_nothing_changes(api, world,
                                                                                     db):
    pool = lf.pool(world.org, world.east)
    lf.lead(world.org, pool, phone_number="13900000001")
    mine = _customer(api, world.rep_east, phone="13900000002").json
    r = api.as_(world.rep_east).patch(f"/api/v1/customers/{mine['id']}",
                                      json={"phone": "139 0000 0001"})
    assert (r.status_code, r.json["error"]) == (409, "duplicate_lead")
    assert api.as_(world.rep_east).get(f"/api/v1/customers/{mine['id']}").json["phone"] == \
        "13900000002"
    # Its own phone, written differently, is not a duplicate of itself.
    r = api.as_(world.rep_east).patch(f"/api/v1/customers/{mine['id']}",
                                      json={"phone": "+86 139 0000 0002", "name": "Acme Trading"})
    assert r.status_code == 200, r.json


def test_editing_a_lead_onto_a_customers_company_is_refused(api, world):
    factories.customer(world.org, world.rep_west, name="Huating Steel")
    pool = lf.pool(world.org, world.east)
    lead = lf.lead(world.org, pool, world.rep_east)
    r = api.as_(world.rep_east).patch(f"/api/v1/leads/{lead.id}", json={"company": "HUATING steel"})
    assert (r.status_code, r.json["error"], r.json["kind"]) == (409, "duplicate_customer",
                                                                 "company")
    r = api.as_(world.rep_east).patch(f"/api/v1/leads/{lead.id}", json={"intent": "hot"})
    assert (r.status_code, r.json["intent"]) == (200, "hot")


def test_a_dead_lead_releases_its_phone(api, world):
    pool = lf.pool(world.org, world.east)
    lead = lf.lead(world.org, pool, world.rep_east, phone_number="13700000001")
    assert _customer(api, world.rep_east, phone="13700000001").status_code == 409
    r = api.as_(world.rep_east).post(f"/api/v1/leads/{lead.id}/mark-dead", json={"reason": "no"})
    assert r.status_code == 200
    assert _customer(api, world.rep_east, phone="13700000001").status_code == 201


def test_converting_a_lead_hands_its_keys_to_the_customer(api, world, db):
    pool = lf.pool(world.org, world.east)
    lead = lf.lead(world.org, pool, world.rep_east, phone_number="13600000001",
                   company="Pudong Glass")
    r = api.as_(world.rep_east).post(f"/api/v1/leads/{lead.id}/convert", json={"customer": {}})
    assert r.status_code == 201, r.json
    customer_id = r.json["customer"]["id"]
    holders = db.execute(select(PartyKey.kind, PartyKey.customer_id, PartyKey.lead_id).where(
        PartyKey.org_id == world.org.id).order_by(PartyKey.kind)).all()
    assert [(k, str(c), lead_id) for k, c, lead_id in holders] == [
        ("company", customer_id, None), ("phone", customer_id, None)]
    r = api.as_(world.mgr_east).post("/api/v1/leads", json={
        "pool_id": str(pool.id), "name": "Again", "phone": "13600000001"})
    assert (r.status_code, r.json["error"]) == (409, "duplicate_customer")


def test_duplicates_lookup_masks_contact_like_leads(api, world):
    pool = lf.pool(world.org, world.east)
    lead = lf.lead(world.org, pool, world.rep_east, phone_number="13812340000", company="Acme")
    cust = factories.customer(world.org, world.rep_east, name="Zeta", phone="13812349999")
    r = api.as_(world.rep_east2).get("/api/v1/duplicates?phone=%2B86%20138-1234-0000&company=acme")
    assert r.status_code == 200, r.json
    assert [(m["kind"], m["type"], m["id"], m["phone"]) for m in r.json] == [
        ("phone", "lead", str(lead.id), "138****0000"),
        ("company", "lead", str(lead.id), "138****0000")]
    assert r.json[0]["owner"] == {"id": str(world.rep_east.id), "name": world.rep_east.name}
    r = api.as_(world.rep_east).get("/api/v1/duplicates?phone=13812349999")
    assert [(m["type"], m["id"], m["phone"]) for m in r.json] == [
        ("customer", str(cust.id), "13812349999")]
    r = api.as_(world.rep_b).get("/api/v1/duplicates?phone=13812349999")
    assert r.json == []  # nothing crosses organisations
    assert api.as_(world.rep_east).get("/api/v1/duplicates").status_code == 422
    assert api.as_(world.rep_east).get("/api/v1/duplicates?phone=call%20me").status_code == 422


def test_lead_import_counts_held_phones_and_companies_as_duplicates(api, world, db):
    pool = lf.pool(world.org, world.east)
    factories.customer(world.org, world.rep_east, name="Held Co", phone="13500000001")
    csv = ("name,company,phone\n"
           "A,New One,+86 135 0000 0001\n"       # a customer's phone
           "B,held co,13500000002\n"              # a customer's company
           "C,Fresh,13500000003\n"
           "D,fresh,13500000004\n"                # earlier in the file (company)
           "E,Other,135-0000-0003\n")             # earlier in the file (phone)
    r = api.as_(world.admin).post(f"/api/v1/lead-pools/{pool.id}/import", data=csv,
                                  headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.json
    assert (r.json["created"], r.json["duplicates"], r.json["errors"]) == (1, 4, [])


def test_sql_phone_key_agrees_with_normalize_phone(db):
    """fs_phone_key (the trigger's) and rules.normalize_phone (the API's validation) are two
    spellings of one rule."""
    cases = ["13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678",
             "+86-13812345678", "0086 138 1234 5678", "8613812345678", "(021) 6123-4567",
             "+86 21 6123 4567", "１３８１２３４５６７８", "+1 415 555 0100",
             "0044 20 7946 0000", "861234", " 138.1234.5678 ", "138·1234·5678",
             "call me", "138x1234", "12", "1" * 21, "+", "", "   "]
    for raw in cases:
        try:
            expected = rules.normalize_phone(raw)
        except ValueError:
            expected = None
        assert db.scalar(select(func.fs_phone_key(raw))) == expected, raw


@pytest.mark.parametrize("raw, key", [
    ("Acme Trading", "acme trading"), ("  ACME   trading ", "acme trading"),
    ("ＡＣＭＥ Trading", "acme trading"), ("上海 金桥\u3000食品", "上海 金桥 食品"), ("  ", None)])
def test_company_key(db, raw, key):
    assert db.scalar(select(func.fs_company_key(raw))) == key


def _migration():
    import importlib.util
    from pathlib import Path

    path = next(Path("migrations/versions").glob("*_leadguard_party_keys.py"))
    spec = importlib.util.spec_from_file_location("leadguard_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_existing_duplicates_keep_the_oldest_holder_and_are_reported(db):
    """The migration's backfill, replayed on rows written before the guard (triggers off)."""
    from fieldsales.duplicates.report import clashes

    org = factories.org()
    pool = lf.pool(org)
    for table in ("customers", "leads"):
        db.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_party_keys_insert"))
    young = factories.customer(org, name="Young Co", phone="133 0000 0001")
    old = lf.lead(org, pool, phone_number="13300000001", company="Old Co", created_at=lf.T0)
    twin = factories.customer(org, name="old co")
    for table in ("customers", "leads"):
        db.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {table}_party_keys_insert"))
    db.execute(text(_migration().BACKFILL))
    held = set(db.execute(select(PartyKey.kind, PartyKey.value, func.coalesce(
        PartyKey.lead_id, PartyKey.customer_id)).where(PartyKey.org_id == org.id)).all())
    assert held == {("phone", "13300000001", old.id), ("company", "old co", old.id),
                    ("company", "young co", young.id)}
    assert db.scalar(text(_migration().UNHELD)) >= 2
    report = clashes(db, org_id=org.id)
    assert sorted((c["type"], c["id"], c["kind"], c["held_by_id"]) for c in report) == sorted([
        ("customer", young.id, "phone", old.id), ("customer", twin.id, "company", old.id)])
