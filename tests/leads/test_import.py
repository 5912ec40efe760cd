import pytest
from sqlalchemy import func, select, text

from fieldsales.leads.models import Lead, LeadEvent
from tests.citus import ON_CITUS
from tests.factories import leads as lf

HEADER = "name,company,phone,email,address,lat,lng,source,tags\n"


def post_csv(api, user, pool, body, content_type="text/csv"):
    data = body.encode() if isinstance(body, str) else body
    return api.as_(user).request("POST", f"/api/v1/lead-pools/{pool.id}/import", data=data,
                                 headers={"Content-Type": content_type})


def test_import_creates_counts_duplicates_and_reports_bad_lines(api, world, db):
    pool = lf.pool(world.org, world.east)
    lf.lead(world.org, lf.pool(world.org), phone_number="13900000001")  # already in the org
    body = HEADER + (
        "Li Na,Jinqiao Foods,138 1234 5678,li@example.com,1 Century Ave,31.23,121.50,expo,"
        "food;new\n"
        ",No Name Co,13800000000,,,,,,\n"                            # line 3: no name
        "Wang Lei,Dup Co,+86 139-0000-0001,,,,,,\n"                   # line 4: duplicate (org)
        "Zhang Min,,13812345678,,,,,,\n"                              # line 5: duplicate (file)
        "Bad Phone,,call me,,,,,,\n"                                  # line 6
        "Bad Lat,,,,,abc,121.5,,\n"                                   # line 7
        "Half Point,,,,,31.2,,,\n"                                    # line 8
        "\n"                                                          # line 9: blank, skipped
        '"Multi ""line""\nname",,,bad-email,,,,,\n'                   # lines 10-11
        "Too,many,fields,,,,,,,,x\n"                                  # line 12
        "Liu Yang,,,,,,,referral,\n")                                 # line 13: ok, no phone
    r = post_csv(api, world.mgr_east, pool, body)
    assert r.status_code == 200, r.json
    assert r.json["created"] == 2 and r.json["duplicates"] == 2
    errors = {e["line"]: e["message"] for e in r.json["errors"]}
    assert sorted(errors) == [3, 6, 7, 8, 10, 12], errors
    assert errors[3].startswith("name:")
    assert errors[6].startswith("phone:")
    assert errors[7].startswith("lat:")
    assert "lng" in errors[8]
    assert errors[10].startswith("email:")
    assert "fields" in errors[12]
    assert r.json["errors_total"] == 6
    created = db.scalars(select(Lead).where(Lead.pool_id == pool.id).order_by(Lead.name)).all()
    assert [lead.name for lead in created] == ["Li Na", "Liu Yang"]
    li = created[0]
    assert (li.phone_normalized, li.lat, li.lng, li.tags, li.status) == (
        "13812345678", 31.23, 121.50, ["food", "new"], "pooled")
    events = db.scalars(select(LeadEvent.action).where(LeadEvent.lead_id == li.id)).all()
    assert events == ["imported"]
    from fieldsales.audit.models import AuditEntry
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "lead.imported",
                                                AuditEntry.entity_id == pool.id)).one()
    assert entry.user_id == world.mgr_east.id and entry.data["created"] == 2


def test_import_header_rules(api, world):
    pool = lf.pool(world.org, world.east)
    r = post_csv(api, world.admin, pool, "company,phone\nx,1\n")
    assert r.status_code == 422 and r.json["error"] == "invalid_csv"
    r = post_csv(api, world.admin, pool, "name,phon\nx,1\n")
    assert r.status_code == 422 and "phon" in r.json["message"]
    assert post_csv(api, world.admin, pool, "").status_code == 422
    # Columns in another order, only some of them, and a BOM are fine.
    r = post_csv(api, world.admin, pool, "\ufeffphone,name\n13700000000,Reordered\n")
    assert r.status_code == 200 and r.json["created"] == 1


def test_import_encodings(api, world, db):
    pool = lf.pool(world.org, world.east)
    body = (HEADER + "张伟,上海食品,13600000000,,,,,,\n").encode("gbk")
    r = post_csv(api, world.admin, pool, body, "text/csv; charset=gbk")
    assert r.status_code == 200 and r.json["created"] == 1
    assert db.scalar(select(Lead.company).where(Lead.pool_id == pool.id)) == "上海食品"
    r = post_csv(api, world.admin, pool, body)  # GBK bytes sent as UTF-8
    assert r.status_code == 422 and r.json["error"] == "invalid_csv"
    assert post_csv(api, world.admin, pool, HEADER, "text/csv; charset=klingon"
                    ).status_code == 415


@pytest.mark.parametrize("content_type", ["application/json", "text/plain",
                                          "multipart/form-data; boundary=x"])
def test_import_wrong_content_type_is_415(api, world, content_type):
    pool = lf.pool(world.org, world.east)
    r = post_csv(api, world.admin, pool, HEADER + "x,,,,,,,,\n", content_type)
    assert r.status_code == 415 and r.json["error"] == "unsupported_media_type"


def test_import_over_5_mb_is_413_and_writes_nothing(api, world, db):
    pool = lf.pool(world.org, world.east)
    row = "Big Lead,Big Co,,,Some address that takes up a bit of room,,,,\n"
    body = HEADER + row * (5 * 1024 * 1024 // len(row) + 1)
    assert len(body.encode()) > 5 * 1024 * 1024
    r = post_csv(api, world.admin, pool, body)
    assert r.status_code == 413 and r.json["code"] == 413
    assert db.scalar(select(func.count()).where(Lead.pool_id == pool.id)) == 0


def test_import_just_under_the_limit_works(app, committed):
    """Committed, not in the rolled-back test transaction: there, every row's foreign-key
    check runs in a savepoint and PostgreSQL's multixact bookkeeping makes a big import
    quadratic, which production (one plain transaction) never sees."""
    from tests import factories
    from tests.conftest import ApiClient
    org = factories.org()
    admin = factories.user(org, "admin")
    pool = lf.pool(org)
    api = ApiClient(app)
    filler = "Building 7, " * 40  # ~480 characters of address per row
    rows = [f"Lead {i},Co {i},1380{i:07d},,\"{filler}{i}\",,,,\n" for i in range(10_000)]
    body = HEADER + "".join(rows)
    assert 4.5 * 1024 * 1024 < len(body.encode()) < 5 * 1024 * 1024
    r = post_csv(api, admin, pool, body)
    assert r.status_code == 200 and r.json == {"created": 10_000, "duplicates": 0,
                                               "errors": [], "errors_total": 0}
    again = post_csv(api, admin, pool, body)
    assert again.json["created"] == 0 and again.json["duplicates"] == 10_000


def test_import_caps_the_error_list(api, world):
    pool = lf.pool(world.org, world.east)
    r = post_csv(api, world.admin, pool, HEADER + ",,,,,,,,x\n" * 1500)
    assert r.status_code == 200 and len(r.json["errors"]) == 1000
    assert r.json["errors_total"] == 1500 and r.json["errors"][0]["line"] == 2


def test_import_permissions(api, world):
    east = lf.pool(world.org, world.east)
    org_pool = lf.pool(world.org)
    body = HEADER + "x,,,,,,,,\n"
    assert post_csv(api, world.rep_east, east, body).status_code == 403
    assert post_csv(api, world.hr, east, body).status_code == 403
    assert post_csv(api, world.mgr_east, org_pool, body).status_code == 403
    assert post_csv(api, world.mgr_west, east, body).status_code == 404
    assert post_csv(api, world.admin_b, east, body).status_code == 404
    assert post_csv(api, world.admin, org_pool, body).status_code == 200


# --- the bulk path (leads/importing.py) --------------------------------------------------------

def test_a_nul_in_a_cell_is_an_error_of_its_line(api, world, db):
    pool = lf.pool(world.org, world.east)
    r = post_csv(api, world.admin, pool, HEADER + "Ok,,,,,,,,\nNul\x00here,,,,,,,,\nOk 2,,,,,,,,\n")
    assert r.status_code == 200, r.json
    assert r.json["created"] == 2
    assert [e["line"] for e in r.json["errors"]] == [3] and "NUL" in r.json["errors"][0]["message"]


def test_the_earliest_line_of_a_phone_is_the_one_created(api, world, db):
    pool = lf.pool(world.org, world.east)
    body = HEADER + ("Zed,,13700000009,,,,,,\n" "Amy,,13700000001,,,,,,\n"
                     "Second Zed,,137 0000 0009,,,,,,\n" "Second Amy,,+8613700000001,,,,,,\n")
    r = post_csv(api, world.admin, pool, body)
    assert (r.json["created"], r.json["duplicates"]) == (2, 2)
    names = db.scalars(select(Lead.name).where(Lead.pool_id == pool.id).order_by(Lead.name))
    assert list(names) == ["Amy", "Zed"]


# Rows PostgreSQL accepts by itself must come out exactly as the lead schema would have them;
# the rest go through the schema. Each line here sits near an edge of one of the two.
EDGE_ROWS = [
    "A,,+86 138 0000 0001,a@b.co,,90,180,,x",
    "B,,0086-138-0000-0002,a.b+c@sub.example.com,,-90,-180,, a ; b|c ;;",
    "C,,8613800000003,A_B%C@EXAMPLE.ORG,,+31.2,121.,,",
    "D,,(021) 6234.5678,user@localhost,,31.,121.5,,",
    "E,,+1 415 555 0100,用户@例子.广告,,1e1,2E1,,",
    "F,,１３８００００００６,a..b@c.com,,90.0000001,0,,",
    "G,,138·0000·0007,.a@b.com,,nan,1,,",
    "H,,12,a@-b.com,,inf,1,,",
    "I,,123,a@b,,31.2,,,",
    "J,,+123456789012345678901,a@b.c0m,,,121.4,,",
    "K,,12345678901234567890,a@b.com.,,-0,-0.0,,　x　;y\u00a0",
    "L,,tel:123,a b@c.com,,abc,1,,",
    "M,,+,a@b.toolongtld,,٣١,1,,",
    "N,,00,\"a\"\"b\"\"@c.com\",,91,1,,",
    "O,,+86,x@[127.0.0.1],,1,181,,",
    "P,,86 138 0000 0016,a@b-.com,,0.12345678901234567,1,,",
    "Q,,8 6 1 3 8 0000 0017,a@xn--d1acufc.xn--p1ai,,1,1,," + ";".join("t" * 50 for _ in range(50)),
    "R,,+8686123,,,1,1,," + "t" * 51,
    "S,,1 2 3,,,1,1,," + ";".join(str(i) for i in range(51)),
    "\u3000,,,,,,,,",
    "x" * 200 + ",,,,,,,,",
    "x" * 201 + ",,,,,,,,",
    "T," + "c" * 200 + ",," + "e" * 250 + "@b.co," + "a" * 500 + ",,," + "s" * 100 + ",",
    "U," + "c" * 201 + ",,," + "a" * 501 + ",,," + "s" * 101 + ",",
    "V,,," + "e" * 249 + "@b.co,,,,,",
]


def test_sql_checks_agree_with_the_lead_schema_on_edge_rows(api, world, db):
    import io

    from fieldsales.leads import csv_import
    from fieldsales.leads.schemas import LeadFieldsSchema

    pool = lf.pool(world.org, world.east)
    body = HEADER + "".join(f"{row}\n" for row in EDGE_ROWS)
    reference = list(csv_import.read_rows(io.StringIO(body, newline=""), LeadFieldsSchema()))
    r = post_csv(api, world.admin, pool, body)
    assert r.status_code == 200, r.json
    assert r.json["errors"] == [{"line": line, "message": error}
                                for line, _, error in reference if error]
    valid = [data for _, data, error in reference if error is None]
    assert r.json["created"] == len(valid) >= 8
    stored = {lead.name: lead for lead in db.scalars(select(Lead).where(Lead.pool_id == pool.id))}
    from fieldsales.leads import rules
    for data in valid:
        lead = stored[data["name"]]
        location = data.get("location") or {}
        assert (lead.company, lead.phone, lead.phone_normalized, lead.email, lead.address,
                lead.lat, lead.lng, lead.source, lead.tags) == (
            data.get("company"), data.get("phone"), rules.normalize_phone(data.get("phone")),
            data.get("email"), data.get("address"), location.get("lat"), location.get("lng"),
            data.get("source"), data.get("tags", [])), data["name"]


def test_nothing_is_written_when_a_row_breaks_the_database_unexpectedly(api, world, db):
    from fieldsales.audit.models import AuditEntry

    pool = lf.pool(world.org, world.east)
    # A rule the checks before it do not know (the test's transaction rolls it back).
    db.execute(text("ALTER TABLE leads ADD CONSTRAINT test_no_boom CHECK (name <> 'boom')"))
    db.commit()
    r = post_csv(api, world.admin, pool, HEADER + "fine,,13700000001,,,,,,\nboom,,,,,,,,\n")
    assert r.status_code == 500 and r.json["error"] == "internal_error"
    assert "boom" not in r.get_data(as_text=True)
    assert db.scalar(select(func.count()).where(Lead.pool_id == pool.id)) == 0
    assert db.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.entity_id == pool.id)) == 0


def test_two_identical_imports_at_once_create_each_lead_once(app, committed):
    from tests import factories
    from tests.conftest import ApiClient, run_threads

    rows = 3000
    body = HEADER + "".join(f"Lead {i},,1390{i:07d},,,,,,\n" for i in range(rows))
    # A fresh org each round (rather than deleting the leads, which would tamper with what
    # the audit chain sealed and fail `audit verify` of the whole test database).
    for _ in range(3):
        org = factories.org()
        admin = factories.user(org, "admin")
        client = ApiClient(app, admin)
        pool = lf.pool(org)
        results = run_threads(2, lambda i, pool=pool, client=client, admin=admin: post_csv(
            client, admin, pool, body))
        assert [r.status_code for r in results] == [200, 200]
        assert sorted(r.json["created"] for r in results)[1] > 0
        assert sum(r.json["created"] for r in results) == rows
        assert all(r.json["created"] + r.json["duplicates"] == rows for r in results)
        org_leads = select(func.count()).select_from(Lead).where(Lead.org_id == org.id)
        assert committed.scalar(org_leads) == rows
        events = committed.scalar(select(func.count()).select_from(LeadEvent).where(
            LeadEvent.org_id == org.id, LeadEvent.action == "imported"))
        assert events == rows
        committed.rollback()


# NOT FIXED on Citus: this import's INSERT ... SELECT into a leads shard grows a worker backend
# without bound (8-10 GB, then the out-of-memory killer), likely the per-row party-keys
# trigger Citus needs (scripts/citus_distribute.py). Skipped there so that `make test-citus`
# cannot take the machine down; README "Citus" lists it as open.
@pytest.mark.skipif(ON_CITUS, reason="known Citus bug, not fixed: a 5 MiB import exhausts "
                                     "the worker's memory")
def test_a_5_mib_import_completes_through_gunicorn(app, committed, tmp_path):
    """The largest allowed file, through the real server, within its worker timeout (60 s)."""
    import requests

    from bench.harness import gunicorn
    from bench.lead_import import make_file
    from tests import factories

    org = factories.org()
    admin = factories.user(org, "admin")
    pool = lf.pool(org)
    body, rows, bad, dup = make_file("139")  # 0.1 % bad phones, 0.1 % repeated ones
    assert rows > 190_000 and len(body) <= 5 * 1024 * 1024
    headers = {"Authorization": "Bearer " + factories.token_for(app, admin),
               "Content-Type": "text/csv"}
    with gunicorn(workers=1, log_path=tmp_path / "gunicorn.log") as (base, _):
        r = requests.post(f"{base}/api/v1/lead-pools/{pool.id}/import", data=body,
                          headers=headers, timeout=120)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert (r.json()["created"], r.json()["duplicates"], r.json()["errors_total"]) == (
        rows - bad - dup, dup, bad)
    assert r.json()["errors"][0] == {
        "line": 1001, "message": "phone: A phone number may contain only digits, spaces, dashes, "
                                 "dots, brackets and a leading +."}
    assert committed.scalar(select(func.count()).where(Lead.pool_id == pool.id)) == rows - bad - dup


def test_rows_the_sql_check_leaves_to_the_schema_are_read_in_pages(api, world, db):
    """Full-width digits are a valid phone the SQL check does not know (the schema does): more
    such rows than one page of the server-side cursor, valid and bad ones mixed."""
    pool = lf.pool(world.org, world.east)
    wide = str.maketrans("0123456789", "０１２３４５６７８９")
    rows = [f"W{i},,{f'1370{i:07d}'.translate(wide)},,,,,,\n" if i % 3 else f"Bad {i},,x{i},,,,,,\n"
            for i in range(4500)]
    r = post_csv(api, world.admin, pool, HEADER + "".join(rows))
    assert r.status_code == 200, r.json
    assert (r.json["created"], r.json["errors_total"]) == (3000, 1500)
    assert r.json["errors"][-1]["line"] == 2 + 2997 and len(r.json["errors"]) == 1000
    phones = db.scalars(select(Lead.phone_normalized).where(Lead.pool_id == pool.id,
                                                            Lead.name == "W4499"))
    assert list(phones) == ["13700004499"]
