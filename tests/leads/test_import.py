import pytest
from sqlalchemy import func, select

from fieldsales.leads.models import Lead, LeadEvent
from tests.leads import factories as lf

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
