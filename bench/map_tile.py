"""map_tile: p50 latency of GET /api/v1/maps/tiles/{z}/{x}/{y}.mvt for the tile over central
Shanghai at z12 and at z8 (one local day of the 1,000,000 visits) through the real stack vs the
very same ST_AsMVT statement run directly through psycopg2 (compiled by the app's own builder,
same session settings)."""
import math

from bench import _dataset
from bench._load import Client
from bench.harness import connect, gunicorn, login, percentile, result
from bench.map_geojson import DAY, compiled, interleaved
from fieldsales.timeutil import local_day_bounds

CENTER = (31.2304, 121.4737)  # People's Square
ZOOMS = (12, 8)
N = 150
DAY_START, DAY_END = local_day_bounds(DAY, _dataset.TZ)


def tile_of(lat, lng, z):
    n = 1 << z
    x = int((lng + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def run():
    info = _dataset.ensure()
    filters = {"from_": DAY, "to": DAY}
    tiles = {z: tile_of(*CENTER, z) for z in ZOOMS}
    # .body: the statement a request without If-None-Match runs (MVT and ETag fingerprint)
    statements = {z: compiled(info["admin"], lambda service, p, z=z: service.sql.tile_mvt(
        service._where(p, filters), org_id=p.org_id, z=z, x=tiles[z][0], y=tiles[z][1]).body)
        for z in ZOOMS}
    baseline, sizes, ours, floor = {}, {}, {}, {}
    query = {"from": DAY.isoformat(), "to": DAY.isoformat()}
    with connect() as conn, conn.cursor() as cur, gunicorn(workers=2) as (base, _):
        headers = login(base, info["admin"], info["password"])
        session = Client(base)
        for z, (sql, params) in statements.items():
            cur.execute(sql, params)
            size = len(cur.fetchone()[0])
            cur.execute(
                "SELECT count(*) FROM visits WHERE org_id = %s AND in_at >= %s AND in_at < %s "
                "AND in_geom && ST_Transform(ST_TileEnvelope(%s, %s, %s), 4326)",
                (info["org_id"], DAY_START, DAY_END, z, *tiles[z]))
            sizes[z] = (size, cur.fetchone()[0])
            conn.rollback()
            x, y = tiles[z]

            def raw(sql=sql, params=params):
                cur.execute(sql, params)
                assert len(cur.fetchone()[0]) > 0
                conn.rollback()  # like the app: one transaction per request

            def api(z=z, x=x, y=y, size=size):
                r = session.get(f"{base}/api/v1/maps/tiles/{z}/{x}/{y}.mvt", params=query,
                                headers=headers, timeout=60)
                assert r.status_code == 200 and r.headers["Content-Type"] == \
                    "application/vnd.mapbox-vector-tile", r.status_code
                assert len(r.content) == size

            def me():
                session.get(f"{base}/api/v1/me", headers=headers, timeout=60).raise_for_status()

            # GET /me (authentication and one row) beside them: the HTTP stack's own floor
            baseline[z], ours[z], floor[z] = interleaved([raw, api, me], N)
    out = []
    for z in ZOOMS:
        p50_ours, p50_raw = percentile(ours[z], 50), percentile(baseline[z], 50)
        out.append(result(
            f"map_tile_z{z}", p50_ours, p50_raw, "ms p50", higher_is_better=False,
            notes=f"tile {z}/{tiles[z][0]}/{tiles[z][1]} ({DAY}): {sizes[z][1]} visits, "
                  f"{sizes[z][0] / 1e3:.0f} kB; p90 ours {percentile(ours[z], 90):.1f} ms vs "
                  f"raw {percentile(baseline[z], 90):.1f} ms; stack floor GET /api/v1/me p50 "
                  f"{percentile(floor[z], 50):.1f} ms in the same run; heap correlation of "
                  f"visits.in_at {info['in_at_correlation']}", min_ratio=0.8))
    return out


if __name__ == "__main__":
    print(run())
