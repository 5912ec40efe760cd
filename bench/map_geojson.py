"""map_geojson: p50 latency of GET /api/v1/maps/visits for a city-sized viewport (central
Shanghai, ~19 x 17 km, one local day: ~2,000 of the 1,000,000 visits) through the real stack
(gunicorn, auth, validation, scope, PostGIS-built GeoJSON) vs the very same SQL statement run
directly through psycopg2 (compiled by the app's own builder, same session settings)."""
from datetime import date

from bench import _dataset
from bench._load import Client
from bench.harness import connect, gunicorn, login, percentile, result

BBOX = (121.37, 31.155, 121.57, 31.305)  # MINLNG,MINLAT,MAXLNG,MAXLAT
DAY = date(2026, 9, 29)  # a full local day inside the data set (the last one is half a day)
N = 200
WARMUP = 20


def interleaved(fns, n, warmup=WARMUP):
    """Time each of `fns` n times, taking turns, so that both sides of a ratio see the same
    background load on this shared machine; returns one list of ms latencies per function."""
    import time

    for _ in range(warmup):
        for fn in fns:
            fn()
    out = [[] for _ in fns]
    for _ in range(n):
        for fn, times in zip(fns, out, strict=True):
            started = time.perf_counter()
            fn()
            times.append((time.perf_counter() - started) * 1000)
    return out


def compiled(email, build):
    """(sql, params) of the statement the app runs for `email`: `build(service, principal)`
    returns it, exactly as the endpoint builds it (scope clause included)."""
    from sqlalchemy import select

    from fieldsales import create_app
    from fieldsales.extensions import db
    from fieldsales.maps import service
    from fieldsales.scope import Principal
    from fieldsales.users.models import User

    app = create_app()
    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.email == email))
        principal = Principal.for_user(user, org_timezone=_dataset.TZ)
        sql, params = build(service, principal)
        db.session.remove()
    db.engine.dispose()
    return sql, params


def run():
    info = _dataset.ensure()
    filters = {"bbox": BBOX, "from_": DAY, "to": DAY}
    # .body: the statement a request without If-None-Match runs (the body and its ETag's
    # fingerprint in one statement)
    sql, params = compiled(info["admin"], lambda service, p: service.sql.visits_geojson(
        service._where(p, filters), org_id=p.org_id, cap=service.MAX_FEATURES).body)
    query = {"bbox": ",".join(map(str, BBOX)), "from": DAY.isoformat(), "to": DAY.isoformat()}
    with connect() as conn, conn.cursor() as cur, gunicorn(workers=2) as (base, _):
        def raw():
            cur.execute(sql, params)
            matches, body, _ = cur.fetchone()
            assert body is not None, matches
            conn.rollback()  # like the app: one transaction per request

        headers = login(base, info["admin"], info["password"])
        session = Client(base)
        sample = {}

        def api():
            r = session.get(f"{base}/api/v1/maps/visits", params=query, headers=headers,
                            timeout=60)
            r.raise_for_status()
            sample["r"] = r

        baseline, ours = interleaved([raw, api], N)
        cur.execute(sql, params)
        raw_bytes = len(cur.fetchone()[1].encode())
    r = sample["r"]
    features = len(r.json()["features"])
    p50_ours, p50_raw = percentile(ours, 50), percentile(baseline, 50)
    return result(
        "map_geojson", p50_ours, p50_raw, "ms p50", higher_is_better=False,
        notes=f"{features} features of 1,000,000 visits (bbox {query['bbox']}, {DAY}), "
              f"{len(r.content) / 1e6:.2f} MB {r.headers['Content-Type']} "
              f"(raw {raw_bytes / 1e6:.2f} MB); p90 ours {percentile(ours, 90):.1f} ms vs raw "
              f"{percentile(baseline, 90):.1f} ms; heap correlation of visits.in_at "
              f"{info['in_at_correlation']}", min_ratio=0.8)


if __name__ == "__main__":
    print(run())
