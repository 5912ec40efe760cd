"""Visits and photos by id: a rep of another team, a manager of another team and an admin of
another org get 404; hr may read but writing is 403; insiders get through."""
import io

import pytest

from tests import factories
from tests.factories.photos import make_image
from tests.visits.helpers import SHANGHAI, check_in_body, check_out_body

OUTSIDERS = ["rep_west", "mgr_west", "admin_b"]


def _resources(api, world):
    shop = factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1])
    project = factories.project(world.org, shop, world.rep_east)
    rep = api.as_(world.rep_east)
    visit = rep.post("/api/v1/visits", json=check_in_body(
        shop, project_id=str(project.id))).json
    photo = rep.post(f"/api/v1/visits/{visit['id']}/photos",
                     data={"file": (io.BytesIO(make_image(seed=99)), "p.jpg")},
                     content_type="multipart/form-data").json
    return {"visit": visit["id"], "photo": photo["id"], "project": project.id}


def _photo_form():
    return {"file": (io.BytesIO(make_image(seed=98)), "q.jpg")}


ENDPOINTS = [
    ("GET", "/api/v1/visits/{visit}", None),
    ("POST", "/api/v1/visits/{visit}/check-out", "check_out"),
    ("POST", "/api/v1/visits/{visit}/photos", "photo"),
    ("GET", "/api/v1/photos/{photo}", None),
    ("GET", "/api/v1/photos/{photo}/original", None),
    ("GET", "/api/v1/photos/{photo}/preview", None),
    ("GET", "/api/v1/photos/{photo}/thumbnail", None),
    ("GET", "/api/v1/projects/{project}/visits", None),
]


def _call(api, user, method, template, body, res):
    path = template.format(**res)
    if body == "photo":
        return api.as_(user).post(path, data=_photo_form(), content_type="multipart/form-data")
    json_body = check_out_body() if body == "check_out" else None
    return api.as_(user).request(method, path, json=json_body)


@pytest.mark.parametrize("method, template, body", ENDPOINTS,
                         ids=[f"{m} {t}" for m, t, _ in ENDPOINTS])
@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_outsiders_get_404(api, world, method, template, body, outsider):
    res = _resources(api, world)
    r = _call(api, getattr(world, outsider), method, template, body, res)
    assert r.status_code == 404, (outsider, r.status_code, r.get_data(as_text=True)[:200])
    assert r.json["error"] == "not_found"
    assert res["visit"] not in r.get_data(as_text=True)


@pytest.mark.parametrize("method, template, body", ENDPOINTS,
                         ids=[f"{m} {t}" for m, t, _ in ENDPOINTS])
def test_hr_reads_but_never_writes(api, world, method, template, body):
    res = _resources(api, world)
    r = _call(api, world.hr, method, template, body, res)
    assert r.status_code == (403 if method == "POST" else 200), r.status_code


@pytest.mark.parametrize("method, template, body", ENDPOINTS,
                         ids=[f"{m} {t}" for m, t, _ in ENDPOINTS])
def test_insiders_get_through(api, world, method, template, body):
    """The rep itself for writes, its manager (and the North sub-team's manager chain) for
    reads: the 404s above are about scope, not broken endpoints."""
    res = _resources(api, world)
    who = world.rep_east if method == "POST" else world.mgr_east
    r = _call(api, who, method, template, body, res)
    assert r.status_code in (200, 201), (r.status_code, r.get_data(as_text=True)[:300])


def test_project_visits_only_lists_visible_visits(api, world):
    res = _resources(api, world)
    listed = api.as_(world.rep_east2).get(f"/api/v1/projects/{res['project']}/visits")
    assert listed.status_code == 200 and listed.json == []  # a teammate's visit is not theirs
    assert [v["id"] for v in api.as_(world.admin).get(
        f"/api/v1/projects/{res['project']}/visits").json] == [res["visit"]]
