"""SQL of the map endpoints: GeoJSON and vector tiles are made by PostGIS, not Python.

Each builder takes `where`, the clauses choosing the visits (the caller's scope from scope.py
plus the request's filters, see service.py), and returns two Statements (Cached): the body's,
whose single row holds the finished response body: JSON text (RFC 7946: [lng, lat], WGS-84, 6
decimals) or MVT bytes, and beside it the fingerprint of its rows (the ETag, caching.py); and
the fingerprint's alone, for a conditional request. The service sends that text as it comes,
so features are never decoded into Python objects and encoded again. bench/map_*.py runs these
very statements through psycopg2 as the baseline.

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


# Joined on the caller's org as a parameter (map_org_id), not on the CTE's column: Citus then
# routes the whole statement to the org's shards.
_CUSTOMER_NAMES = """
    JOIN customers c ON c.org_id = %(map_org_id)s AND c.id = v.customer_id"""
_NAMES = """
    JOIN users u ON u.org_id = %(map_org_id)s AND u.id = v.user_id""" + _CUSTOMER_NAMES  # noqa: S608 (fixed SQL text; values go in as bound parameters)

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
       END AS body,
       {{fingerprint}} AS fingerprint
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
         FROM cells), '[]'::json))::text,
       {{fingerprint}}
"""  # noqa: S608 (fixed SQL text; values go in as bound parameters)

# At z <= DOT_MAX_ZOOM a visit is a dot: red when flagged, a click opens GET /visits/{id}. The
# names, times and flags of thousands of dots only made the tile heavier (and the names cost a
# join); from DOT_MAX_ZOOM + 1 on a tile carries every property.
DOT_MAX_ZOOM = 10
_DOT_PROPERTIES = "v.id::text AS visit_id, cardinality(v.flags) > 0 AS flagged"
_ALL_PROPERTIES = f"""v.id::text AS visit_id, v.user_id::text AS user_id, u.name AS user_name,
         v.customer_id::text AS customer_id, c.name AS customer_name,
         {_utc_text('v.in_at')} AS at, v.status, array_to_string(v.flags, ',') AS flags,
         cardinality(v.flags) > 0 AS flagged, v.risk_score::integer AS risk_score"""

_TILE = f"""
WITH chosen AS ({{chosen}}),
t AS (
  SELECT ST_AsMVTGeom(ST_Transform(v.in_geom, 3857),
                      ST_TileEnvelope(%(map_z)s, %(map_x)s, %(map_y)s),
                      {grid.MVT_EXTENT}, {grid.MVT_BUFFER}, true) AS geom,
         {{properties}}
  FROM chosen v {{names}})
SELECT coalesce(ST_AsMVT(t, 'visits', {grid.MVT_EXTENT}, 'geom'), ''::bytea),
       {{fingerprint}}
FROM t
"""  # noqa: S608 (fixed SQL text; values go in as bound parameters)

# What a body is built from, row by row, hashed (64 bits) and XORed over the chosen rows, with
# their count: an ETag that changes whenever the body can (a late sync adds a row, an auto-close
# or a photo changes status or flags, a rename changes a name), computed without building it.
_ALL_INPUTS = ("v.id, v.in_at, v.in_lat, v.in_lng, v.status, v.flags, v.risk_score, "
               "v.user_id, v.customer_id, u.name, c.name")
_DOT_INPUTS = "v.id, v.in_lat, v.in_lng, cardinality(v.flags) > 0"
_ROUTE_INPUTS = ("v.id, v.in_at, v.in_lat, v.in_lng, v.status, v.flags, v.risk_score, "
                 "v.customer_id, c.name")


_HASHED = """(SELECT count(*) || '-' || to_hex(coalesce(bit_xor(hashtextextended(
  ROW({inputs})::text, 0)), 0)) FROM chosen v {names})"""  # noqa: S608 (fixed SQL text)


def _fingerprint(inputs: str, names: str) -> str:
    return _HASHED.replace("{inputs}", inputs).replace("{names}", names)


_FINGERPRINT = """
WITH chosen AS ({chosen}{limit})
SELECT (SELECT count(*) FROM chosen), {fingerprint}
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
  FROM stops v {_CUSTOMER_NAMES})
SELECT json_build_object('type', 'FeatureCollection', 'features',
                         (SELECT json_agg(feature ORDER BY seq) FROM features))::text,
       {{fingerprint}}
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


_COMPILED: dict = {}  # SQLAlchemy cache key (the SELECT's shape, not its values) → Compiled
_COMPILED_MAX = 512  # shapes vary with the caller's role and the filters given: a few dozen


def _compile(where) -> Statement:
    """The chosen SELECT as text and parameters. Compiling it took 2.5-4 ms per request (most
    of a small tile's time), so each shape is compiled once and later requests only bind their
    values: SQLAlchemy's own statement cache does the same, keyed the same way."""
    chosen = _chosen(where)
    key = chosen._generate_cache_key()
    compiled = _COMPILED.get(key.key) if key is not None else None
    if compiled is None:
        compiled = chosen.compile(dialect=_DIALECT, cache_key=key)
        if key is not None:
            if len(_COMPILED) >= _COMPILED_MAX:
                _COMPILED.clear()
            _COMPILED[key.key] = compiled
    values = compiled.construct_params(
        extracted_parameters=key.bindparams if key is not None else None, escape_names=False,
        _no_postcompile=True)
    # IN (...) lists are rendered here, for this request's list lengths.
    expanded = compiled.construct_expanded_state(values, escape_names=False)
    # exec_driver_sql skips SQLAlchemy's bind processing, and psycopg2 cannot adapt a UUID.
    params = {k: str(v) if isinstance(v, uuid.UUID) else v
              for k, v in expanded.parameters.items()}
    return Statement(expanded.statement, params)


def _fill(template, chosen: Statement, parts: dict, params: dict) -> Statement:
    for name, text in parts.items():
        template = template.replace("{" + name + "}", text)
    # The text put into the template is SQLAlchemy's compiled SELECT: its values are all bound
    # parameters, never request text.
    return Statement(template.replace("{chosen}", chosen.sql), {**chosen.params, **params})


class Cached(NamedTuple):
    """A body statement (its row: ..., body, fingerprint) and the statement that computes the
    same fingerprint alone (its row: matches, fingerprint), for a conditional request."""

    body: Statement
    fingerprint: Statement


def _cached(template, where, *, inputs, names="", limit="", parts=None, **params) -> Cached:
    chosen = _compile(where)
    fingerprint = _fingerprint(inputs, names)
    return Cached(
        _fill(template, chosen, {**(parts or {}), "fingerprint": fingerprint}, params),
        _fill(_FINGERPRINT, chosen, {"limit": limit, "fingerprint": fingerprint}, params))


def visits_geojson(where, *, org_id, cap: int) -> Cached:
    """(matches, FeatureCollection text, fingerprint) of check-in points, oldest first.
    `matches` stops counting at cap + 1 (LIMIT, no count of everything) and the JSON is only
    built when matches <= cap, else it is NULL."""
    return _cached(_VISITS, where, inputs=_ALL_INPUTS, names=_NAMES,
                   limit=" LIMIT %(map_limit)s", map_limit=cap + 1, map_cap=cap,
                   map_org_id=str(org_id))


def clusters_geojson(where, *, zoom: int) -> Cached:
    """(FeatureCollection text, fingerprint) of clusters: the matching visits grouped by a
    square Web Mercator grid whose cell is grid.CLUSTER_CELL_PX screen pixels at `zoom`. Every
    visit falls in exactly one cell, so the counts add up to the number of matching visits. A
    cluster sits at the mean of its visits (inside its cell) and carries their bounding box
    (`bbox`)."""
    return _cached(_CLUSTERS, where, inputs=_DOT_INPUTS, map_cell=grid.cluster_cell_m(zoom))


def tile_mvt(where, *, org_id, z: int, x: int, y: int) -> Cached:
    """(MVT bytes of tile z/x/y, layer `visits` (empty: no visit in the tile), fingerprint).

    The GIST index is on the WGS-84 point, so the tile envelope (widened by the buffer) is
    transformed to 4326 for the filter, and only the chosen points are projected to 3857."""
    bounds = func.ST_MakeEnvelope(-grid.HALF_WORLD_M, -grid.HALF_WORLD_M, grid.HALF_WORLD_M,
                                  grid.HALF_WORLD_M, 3857)
    margin = grid.MVT_BUFFER / grid.MVT_EXTENT
    search = func.ST_Transform(func.ST_TileEnvelope(z, x, y, bounds, margin), 4326)
    where = [*where, Visit.in_geom.op("&&")(search)]
    if z <= DOT_MAX_ZOOM:
        return _cached(_TILE, where, inputs=_DOT_INPUTS,
                       parts={"properties": _DOT_PROPERTIES, "names": ""},
                       map_z=z, map_x=x, map_y=y)
    return _cached(_TILE, where, inputs=_ALL_INPUTS, names=_NAMES,
                   parts={"properties": _ALL_PROPERTIES, "names": _NAMES},
                   map_z=z, map_x=x, map_y=y, map_org_id=str(org_id))


def route_geojson(where, *, org_id, user_id, user_name, day: str) -> Cached:
    """(FeatureCollection text, fingerprint) of one rep's day: first a LineString through the
    check-ins in time order (geometry null with fewer than two) with `distance_m` measured on
    the spheroid, then the check-in points numbered by `seq`. (The rep's name is in the body
    but not in the fingerprint: the service puts it into the ETag.)"""
    return _cached(_ROUTE, where, inputs=_ROUTE_INPUTS, names=_CUSTOMER_NAMES,
                   map_user_id=str(user_id), map_user_name=user_name, map_date=day,
                   map_org_id=str(org_id))
