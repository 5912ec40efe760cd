"""Local times and response readers for map tests (the visit rows come from
tests.factories.visits.map_visit)."""
from datetime import datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(y, m, d, hh=10, mm=0, tz=SHANGHAI):
    return datetime(y, m, d, hh, mm, tzinfo=tz)


def features(response):
    assert response.status_code == 200, (response.status_code, response.get_data(as_text=True))
    body = response.get_json(force=True)
    assert body["type"] == "FeatureCollection"
    return body["features"]


def ids(response):
    return {f["properties"]["visit_id"] for f in features(response)}
