"""SQL of the map endpoints: GeoJSON and vector tiles are made by PostGIS, not Python.

Each builder takes `where`, the clauses choosing the visits (the caller's scope from scope.py
plus the request's filters, see service.py), and returns a Statement whose single row is the
finished response body: JSON text (RFC 7946: [lng, lat], WGS-84, 6 decimals) or MVT bytes. The
service sends that text as it comes, so features are never decoded into Python objects and
encoded again. bench/map_*.py runs these very statements through psycopg2 as the baseline.

The choosing SELECT is built with SQLAlchemy (so scope.py's clauses go in unchanged) and
compiled; the fixed part around it (the feature construction) is plain SQL text below.
Building that part as a SQLAlchemy expression on every request cost 5-8 ms (measured: a
quarter of a z12 tile's time), more than the database needs for a small tile.
"""
import uuid
from typing import NamedTuple

from sqlalchemy import func, select, type_coerce
from sqlalchemy.types import NullType
from sqlalchemy.dialects.postgresql import psycopg

from fieldsales.maps import grid
from fieldsales.visits.models import Visit

DECIMALS = 6  # ~0.1 m: more would be noise, and API.md caps GeoJSON at 6
# Compiled for psycopg 3 whatever the app's driver: its pyformat placeholders carry explicit
# casts (%(org_id_1)s::UUID), which psycopg 3's server-side parameters need and psycopg2's
# client-side quoting accepts alike (tests/maps runs on both drivers).
_DIALECT = psycopg.dialect()

# Parameters of the fixed SQL are named map_*, so they never meet the compiled SELECT's.
# (pyformat: a literal % is written %%.)


def _utc_text(col):
    """A timestamptz as the API writes times (fieldsales.schemas.Timestamp): UTC with `Z`,
    microseconds only when there are any."""
    utc = f"timezone('UTC', {col})"
    return (f"concat(to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS'), CASE WHEN extract("
            f"microseconds FROM {col}) %% 1000000 = 0 THEN '' ELSE to_char({utc}, '.US') END,"
            " 'Z')")


_NAMES = """
    JOIN users u ON u.org_id = v.org_id AND u.id = v.user_id
    JOIN customers c ON c.org_id = v.org_id AND c.id = v.customer_id"""  # noqa: S608 (fixed SQL text; values go in as bound parameters)

_VISITS = f"""
WITH chosen AS ({{chosen}} LIMIT %(map_limit)s)
SELECT (SELECT count(*) FROM chosen) AS matches,
       CASE WHEN (SELECT count(*) FROM chosen) <= %(map_cap)s THEN json_build_object(
         'type', 'FeatureCollection',
         'features', coalesce((
           SELECT json_agg(json_build_object(
                    'type', 'Feature', 'id', v.id,
                    'geometry', ST_AsGeoJSON(v.in_geom, {DECIMALS})::json,
                    'properties', json_build_object(
                      'visit_id', v.id, 'user_id', v.user_id, 'user_name', u.name,
                      'customer_id', v.customer_id, 'customer_name', c.name,
                      'at', {_utc_text('v.in_at')}, 'status', v.status, 'flags', v.flags,
                      'risk_score', v.risk_score))
                  ORDER BY v.in_at, v.id)
           FROM chosen v {_NAMES}), '[]'::json))::text
       END AS body
"""  # noqa: S608 (fixed SQL text; values go in as bound parameters)

_CLUSTERS = f"""
WITH chosen AS ({{chosen}}),
cells AS (
  SELECT floor(ST_X(p) / %(map_cell)s) AS col, floor(ST_Y(p) / %(map_cell)s) AS row,
         count(*) AS n, count(*) FILTER (WHERE cardinality(flags) > 0) AS flagged,
         avg(in_lng) AS lng, avg(in_lat) AS lat, min(in_lng) AS west, min(in_lat) AS south,
         max(in_lng) AS east, max(in_lat) AS north
  FROM chosen, LATERAL ST_Transform(in_geom, 3857) AS p
  GROUP BY 1, 2)
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce((
         SELECT json_agg(json_build_object(
                  'type', 'Feature',
                  'bbox', json_build_array(round(west::numeric, {DECIMALS}),
                                           round(south::numeric, {DECIMALS}),
                                           round(east::numeric, {DECIMALS}),
                                           round(north::numeric, {DECIMALS})),
                  'geometry', ST_AsGeoJSON(ST_MakePoint(lng, lat), {DECIMALS})::json,
                  'properties', json_build_object('count', n, 'flagged_count', flagged))
                ORDER BY n DESC, col, row)
         FROM cells), '[]'::json))::text
"""  # noqa: S608 (fixed SQL text; values go in as bound parameters)

_TILE = f"""
WITH chosen AS ({{chosen}}),
t AS (
  SELECT ST_AsMVTGeom(ST_Transform(v.in_geom, 3857),
                      ST_TileEnvelope(%(map_z)s, %(map_x)s, %(map_y)s),
                      {grid.MVT_EXTENT}, {grid.MVT_BUFFER}, true) AS geom,
         v.id::text AS visit_id, v.user_id::text AS user_id, u.name AS user_name,
         v.customer_id::text AS customer_id, c.name AS customer_name,
         {_utc_text('v.in_at')} AS at, v.status, array_to_string(v.flags, ',') AS flags,
         cardinality(v.flags) > 0 AS flagged, v.risk_score::integer AS risk_score
  FROM chosen v {_NAMES})
SELECT ST_AsMVT(t, 'visits', {grid.MVT_EXTENT}, 'geom') FROM t
"""  # noqa: S608 (fixed SQL text; values go in as bound parameters)

_ROUTE = f"""
WITH chosen AS ({{chosen}}),
stops AS (SELECT v.*, row_number() OVER (ORDER BY v.in_at, v.id) AS seq FROM chosen v),
route AS (SELECT ST_MakeLine(in_geom ORDER BY seq) AS line, count(*) AS n FROM stops),
features AS (
  SELECT 0 AS seq, json_build_object(
           'type', 'Feature',
           'geometry', CASE WHEN n >= 2 THEN ST_AsGeoJSON(line, {DECIMALS})::json END,
           'properties', json_build_object(
             'kind', 'route', 'user_id', %(map_user_id)s::text,
             'user_name', %(map_user_name)s::text, 'date', %(map_date)s::text, 'visits', n,
             'distance_m', coalesce(round(ST_Length(geography(line))::numeric, 1), 0))
         ) AS feature
  FROM route
  UNION ALL
  SELECT v.seq, json_build_object(
           'type', 'Feature', 'id', v.id,
           'geometry', ST_AsGeoJSON(v.in_geom, {DECIMALS})::json,
           'properties', json_build_object(
             'kind', 'check_in', 'seq', v.seq, 'visit_id', v.id,
             'customer_id', v.customer_id, 'customer_name', c.name,
             'at', {_utc_text('v.in_at')}, 'status', v.status, 'flags', v.flags,
             'risk_score', v.risk_score))
  FROM stops v JOIN customers c ON c.org_id = v.org_id AND c.id = v.customer_id)
SELECT json_build_object('type', 'FeatureCollection', 'features',
                         (SELECT json_agg(feature ORDER BY seq) FROM features))::text
"""  # noqa: S608 (fixed SQL text; values go in as bound parameters)


class Statement(NamedTuple):
    """SQL text (pyformat placeholders, as psycopg and psycopg2 take it) and its parameters."""

    sql: str
    params: dict


def _chosen(where):
    """The visits the caller asked for and may see, with the columns the builders use."""
    v = Visit.__table__.c
    return select(v.id, v.org_id, v.user_id, v.customer_id, v.in_at, v.in_lat, v.in_lng,
                  v.status, v.flags, v.risk_score,
                  # the geometry itself, not GeoAlchemy's ST_AsEWKB() of it
                  type_coerce(v.in_geom, NullType()).label("in_geom")).where(*where)


def _render(template, where, **params) -> Statement:
    compiled = _chosen(where).compile(dialect=_DIALECT,
                                      compile_kwargs={"render_postcompile": True})
    # exec_driver_sql skips SQLAlchemy's bind processing, and psycopg2 cannot adapt a UUID.
    inner = {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in compiled.params.items()}
    # The text put into the template is SQLAlchemy's compiled SELECT: its values are all bound
    # parameters, never request text.
    return Statement(template.replace("{chosen}", str(compiled)), {**inner, **params})


def visits_geojson(where, *, cap: int) -> Statement:
    """(matches, FeatureCollection text) of check-in points, oldest first. `matches` stops
    counting at cap + 1 (LIMIT, no count of everything) and the JSON is only built when
    matches <= cap, else it is NULL."""
    return _render(_VISITS, where, map_limit=cap + 1, map_cap=cap)


def clusters_geojson(where, *, zoom: int) -> Statement:
    """FeatureCollection text of clusters: the matching visits grouped by a square Web Mercator
    grid whose cell is grid.CLUSTER_CELL_PX screen pixels at `zoom`. Every visit falls in
    exactly one cell, so the counts add up to the number of matching visits. A cluster sits at
    the mean of its visits (inside its cell) and carries their bounding box (`bbox`)."""
    return _render(_CLUSTERS, where, map_cell=grid.cluster_cell_m(zoom))


def tile_mvt(where, *, z: int, x: int, y: int) -> Statement:
    """The MVT bytes of tile z/x/y, layer `visits` (empty bytes: no visit in the tile).

    The GIST index is on the WGS-84 point, so the tile envelope (widened by the buffer) is
    transformed to 4326 for the filter, and only the chosen points are projected to 3857."""
    bounds = func.ST_MakeEnvelope(-grid.HALF_WORLD_M, -grid.HALF_WORLD_M, grid.HALF_WORLD_M,
                                  grid.HALF_WORLD_M, 3857)
    margin = grid.MVT_BUFFER / grid.MVT_EXTENT
    search = func.ST_Transform(func.ST_TileEnvelope(z, x, y, bounds, margin), 4326)
    return _render(_TILE, [*where, Visit.in_geom.op("&&")(search)], map_z=z, map_x=x, map_y=y)


def route_geojson(where, *, user_id, user_name, day: str) -> Statement:
    """FeatureCollection text of one rep's day: first a LineString through the check-ins in
    time order (geometry null with fewer than two) with `distance_m` measured on the spheroid,
    then the check-in points numbered by `seq`."""
    return _render(_ROUTE, where, map_user_id=str(user_id), map_user_name=user_name,
                   map_date=day)
