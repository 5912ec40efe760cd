"""HTTP caching of map answers: past days get a strong ETag and a private max-age, today's data
is revalidated every time; If-None-Match answers 304 without building the body; the ETag
changes with anything the body is built from (a late sync, an auto-close, a flag, a rename)."""
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from tests.factories.visits import map_visit
from tests.maps.helpers import SHANGHAI, local
from tests.maps.test_tiles import shanghai_tile, tile_of

PAST = {"from": "2026-11-20", "to": "2026-11-20"}  # the mapdata day, long before today

ENDPOINTS = {
    "tile12": lambda: "/api/v1/maps/tiles/{}/{}/{}.mvt".format(*shanghai_tile(12)),
    "tile10": lambda: "/api/v1/maps/tiles/{}/{}/{}.mvt".format(*shanghai_tile(10)),
    "visits": lambda: "/api/v1/maps/visits",
    "clusters": lambda: "/api/v1/maps/clusters",
}
EXTRA = {"clusters": {"zoom": 12}}


def _get(api, user, url, query, etag=None):
    headers = {"If-None-Match": etag} if etag else {}
    extra = EXTRA["clusters"] if url.endswith("/clusters") else {}
    return api.as_(user).get(url, query_string={**query, **extra}, headers=headers)


def _max_age(response):
    found = re.search(r"max-age=(\d+)", response.headers.get("Cache-Control", ""))
    return int(found.group(1)) if found else None


def _today():
    return datetime.now(SHANGHAI).date()


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_past_days_get_a_strong_etag_and_a_private_max_age(api, world, mapdata, name):
    url = ENDPOINTS[name]()
    r = _get(api, world.mgr_east, url, PAST)
    assert r.status_code == 200 and r.data
    etag = r.headers.get("ETag")
    assert etag and etag.startswith('"') and not etag.startswith("W/")
    directives = {d.strip() for d in r.headers["Cache-Control"].split(",")}
    assert "private" in directives and "public" not in directives
    assert "no-store" not in directives and "no-cache" not in directives
    assert _max_age(r) and _max_age(r) > 0


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_if_none_match_is_304_without_building_the_body(api, world, mapdata, statements, name):
    url = ENDPOINTS[name]()
    etag = _get(api, world.mgr_east, url, PAST).headers["ETag"]
    with statements() as sent:
        r = _get(api, world.mgr_east, url, PAST, etag=etag)
    assert r.status_code == 304 and r.data == b""
    assert r.headers["ETag"] == etag
    assert "private" in r.headers["Cache-Control"]
    built = [s for s in sent if re.search(r"ST_AsMVT\(|json_build_object|json_agg", s)]
    assert built == []
    # a weak comparison (RFC 9110: If-None-Match compares weakly) and a list match too
    r = _get(api, world.mgr_east, url, PAST, etag=f'"other", W/{etag}')
    assert r.status_code == 304
    assert _get(api, world.mgr_east, url, PAST, etag='"other"').status_code == 200


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_a_late_sync_into_a_past_day_changes_the_etag(api, world, mapdata, name):
    url = ENDPOINTS[name]()
    before = _get(api, world.mgr_east, url, PAST)
    map_visit(world.rep_east, mapdata.shop["east"], lat=31.2311, lng=121.4741,
              at=local(2026, 11, 20, 16))
    r = _get(api, world.mgr_east, url, PAST, etag=before.headers["ETag"])
    assert r.status_code == 200 and r.data != before.data
    assert r.headers["ETag"] != before.headers["ETag"]


@pytest.mark.parametrize("name", ["tile12", "visits"])
def test_auto_close_and_a_rename_change_the_etag_of_detailed_answers(api, world, db, mapdata,
                                                                     name):
    url = ENDPOINTS[name]()
    if name == "tile12":  # the tile of the open visit e3 (at East shop)
        url = "/api/v1/maps/tiles/12/{}/{}.mvt".format(
            *tile_of(mapdata.e3.in_lat, mapdata.e3.in_lng, 12)[0])
    tags = [_get(api, world.mgr_east, url, PAST).headers["ETag"]]
    db.execute(text("UPDATE visits SET status = 'closed', closed_at = in_at, "
                    "closed_by = 'auto', flags = '{missing_check_out}' WHERE id = :id"),
               {"id": mapdata.e3.id})
    db.commit()
    tags.append(_get(api, world.mgr_east, url, PAST, etag=tags[-1]).headers["ETag"])
    db.execute(text("UPDATE customers SET name = 'East shop (new sign)' WHERE id = :id"),
               {"id": mapdata.shop["east"].id})
    db.commit()
    r = _get(api, world.mgr_east, url, PAST, etag=tags[-1])
    assert r.status_code == 200 and b"East shop (new sign)" in r.data
    tags.append(r.headers["ETag"])
    assert len(set(tags)) == 3


def test_a_flag_changes_the_etag_of_a_low_zoom_tile(api, world, db, mapdata):
    url = ENDPOINTS["tile10"]()
    before = _get(api, world.mgr_east, url, PAST).headers["ETag"]
    db.execute(text("UPDATE visits SET flags = '{photo_reused}' WHERE id = :id"),
               {"id": mapdata.e1.id})
    db.commit()
    assert _get(api, world.mgr_east, url, PAST, etag=before).status_code == 200


def test_the_etag_is_the_same_for_callers_who_see_the_same_body(api, world, mapdata):
    url = ENDPOINTS["tile12"]()
    east = _get(api, world.mgr_east, url, {**PAST, "team_id": world.north.id})
    hr = _get(api, world.hr, url, {**PAST, "team_id": world.north.id})
    assert east.data == hr.data and east.headers["ETag"] == hr.headers["ETag"]
    west = _get(api, world.mgr_west, url, PAST)
    assert west.headers["ETag"] != _get(api, world.mgr_east, url, PAST).headers["ETag"]


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_today_and_open_ranges_are_revalidated(api, world, mapdata, name):
    today = _today()
    map_visit(world.rep_east, mapdata.shop["east"], lat=31.2312, lng=121.4742,
              at=min(datetime.now(SHANGHAI) - timedelta(minutes=1),
                     local(today.year, today.month, today.day, 0, 1)))
    url = ENDPOINTS[name]()
    for query in ({"from": today.isoformat(), "to": today.isoformat()},
                  {"from": (today - timedelta(days=3)).isoformat()},
                  {"from": "2026-11-20", "to": today.isoformat()}):
        r = _get(api, world.mgr_east, url, query)
        assert r.status_code == 200, (query, r.status_code)
        directives = {d.strip() for d in r.headers["Cache-Control"].split(",")}
        assert directives & {"no-cache", "no-store"}, (query, directives)
        assert not _max_age(r)
        if "no-store" not in directives:
            assert _get(api, world.mgr_east, url, query,
                        etag=r.headers["ETag"]).status_code == 304


def test_an_empty_past_tile_is_204_with_its_etag(api, world, mapdata):
    url = "/api/v1/maps/tiles/10/0/0.mvt"
    r = _get(api, world.admin, url, PAST)
    assert r.status_code == 204 and r.headers.get("ETag")
    assert _get(api, world.admin, url, PAST, etag=r.headers["ETag"]).status_code == 304


def test_too_many_features_is_not_cached(api, world, mapdata, monkeypatch):
    from fieldsales.maps import service

    monkeypatch.setattr(service, "MAX_FEATURES", 2)
    r = _get(api, world.mgr_east, ENDPOINTS["visits"](), PAST, etag='"anything"')
    assert r.status_code == 422 and "ETag" not in r.headers
    assert "max-age" not in r.headers.get("Cache-Control", "")


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_one_map_statement_per_request(api, world, mapdata, statements, name):
    """Without If-None-Match the body's statement carries the fingerprint: no second statement;
    with a stale one, the fingerprint and then the body."""
    url = ENDPOINTS[name]()
    with statements() as sent:
        r = _get(api, world.mgr_east, url, PAST)
    assert r.status_code == 200
    assert len([s for s in sent if "WITH chosen AS" in s]) == 1
    with statements() as sent:
        assert _get(api, world.mgr_east, url, PAST, etag='"stale"').status_code == 200
    assert len([s for s in sent if "WITH chosen AS" in s]) == 2


def _route(api, caller, user, day, etag=None):
    headers = {"If-None-Match": etag} if etag else {}
    return api.as_(caller).get("/api/v1/maps/routes", headers=headers,
                               query_string={"user_id": user.id, "date": day})


def test_a_past_days_route_is_cached_and_changes_with_its_check_ins(api, world, db, mapdata,
                                                                    statements):
    r = _route(api, world.mgr_east, world.rep_east, "2026-11-20")
    etag = r.headers.get("ETag")
    assert r.status_code == 200 and etag and not etag.startswith("W/")
    assert "private" in r.headers["Cache-Control"] and _max_age(r) > 0
    with statements() as sent:
        again = _route(api, world.mgr_east, world.rep_east, "2026-11-20", etag=etag)
    assert again.status_code == 304 and again.data == b""
    assert not [s for s in sent if "json_agg" in s]
    # a late sync into that day, then a rename of the rep: a new route each time
    map_visit(world.rep_east, mapdata.shop["east"], lat=31.25, lng=121.49,
              at=local(2026, 11, 20, 18))
    late = _route(api, world.mgr_east, world.rep_east, "2026-11-20", etag=etag)
    assert late.status_code == 200 and late.headers["ETag"] != etag
    db.execute(text("UPDATE users SET name = 'Renamed Rep' WHERE id = :id"),
               {"id": world.rep_east.id})
    db.commit()
    renamed = _route(api, world.mgr_east, world.rep_east, "2026-11-20",
                     etag=late.headers["ETag"])
    assert renamed.status_code == 200 and b"Renamed Rep" in renamed.data


def test_todays_route_is_revalidated(api, world, mapdata):
    today = _today()
    map_visit(world.rep_east2, mapdata.shop["east"], lat=31.2312, lng=121.4742,
              at=min(datetime.now(SHANGHAI) - timedelta(minutes=1),
                     local(today.year, today.month, today.day, 0, 1)))
    r = _route(api, world.mgr_east, world.rep_east2, today.isoformat())
    assert r.status_code == 200 and "no-cache" in r.headers["Cache-Control"]
    assert not _max_age(r)
    assert _route(api, world.mgr_east, world.rep_east2, today.isoformat(),
                  etag=r.headers["ETag"]).status_code == 304
