"""Statements one photo upload sends (issue 12 §3), counted through the API client with auth:
the auth row and the org's size limit (both read before the body arrives), then the visit
lock with the audit head lock and every lookup the flags need in one statement, and the photo
row with its audit entries (and the visit's new flags) in one more. BEGIN/COMMIT on top."""
import uuid

import pytest
from sqlalchemy import func, select

from fieldsales.audit.models import AuditEntry
from fieldsales.audit.service import verify_chain
from fieldsales.photos.models import Photo
from fieldsales.visits.models import Visit
from tests import factories
from tests.photos.test_photos import good_photo, upload
from tests.visits.helpers import SHANGHAI, ago, check_in_body

BEFORE_THE_BODY = 2  # auth row, org photo limit
NEW_PHOTO = BEFORE_THE_BODY + 2
RETRY = BEFORE_THE_BODY + 1


@pytest.fixture
def visit(api, world):
    shop = factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1])
    return api.as_(world.rep_east).post("/api/v1/visits",
                                        json=check_in_body(shop, at=ago(minutes=20))).json


def _counted(statements, send):
    with statements() as sent:
        r = send()
    return r, sent


@pytest.mark.parametrize("form, visit_flags_change", [
    ({}, False),
    ({"id": "client", "source": "gallery"}, True),  # photo_from_gallery is copied to the visit
], ids=["plain", "client-id-gallery"])
def test_a_new_photo_is_two_statements_after_the_body(api, world, visit, db, statements, form,
                                                      visit_flags_change):
    form = {**form, **({"id": str(uuid.uuid4())} if form.get("id") else {})}
    r, sent = _counted(statements, lambda: upload(api, world.rep_east, visit["id"],
                                                  good_photo(seed=7), **form))
    assert r.status_code == 201, r.json
    assert len(sent) <= NEW_PHOTO, "\n\n".join(sent)
    # what those statements wrote: the row, its sealed entry, the visit's flags and theirs
    photo = db.scalar(select(Photo).where(Photo.id == uuid.UUID(r.json["id"])))
    assert photo is not None and r.json["created_at"]
    visit_row = db.get(Visit, (photo.org_id, uuid.UUID(visit["id"])))
    assert ("photo_from_gallery" in visit_row.flags) is visit_flags_change
    actions = db.scalars(select(AuditEntry.action).where(
        AuditEntry.user_id == world.rep_east.id).order_by(AuditEntry.seq)).all()
    assert actions[-1 - visit_flags_change] == "photo.uploaded"
    if visit_flags_change:
        assert actions[-1] == "visit.photo_flags"
    with factories.APP.app_context():
        assert verify_chain(org_id=world.org.id, user_id=world.rep_east.id)["ok"] is True


def test_a_retry_of_the_same_bytes_is_one_statement_after_the_body(api, world, visit, db,
                                                                   statements):
    data = good_photo(seed=8)
    first = upload(api, world.rep_east, visit["id"], data)
    assert first.status_code == 201
    r, sent = _counted(statements, lambda: upload(api, world.rep_east, visit["id"], data))
    assert r.status_code == 200 and r.json == first.json
    assert len(sent) <= RETRY, "\n\n".join(sent)
    assert db.scalar(select(func.count()).where(
        Photo.visit_id == uuid.UUID(visit["id"]))) == 1
