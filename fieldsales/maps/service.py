"""Map reads for managers, admin and hr: visits as GeoJSON, clusters, vector tiles, routes.

Every read starts from the caller's visible visits (principal.scope.visits()), so a manager's
map holds its own and its subtree's visits and nothing else; the request's filters
(visits/filters.py) are ANDed to it. Reps get 403: API.md lists maps for managers, admin and hr
(a rep's own visits are in GET /visits). The bodies are built by PostGIS (sql.py) and returned
as they come from the database: the read replica's when there is one (db.reading()), so a map
may lag a check-in by the replica's replay delay.
"""
import hashlib
from typing import NamedTuple

from sqlalchemy import select

from fieldsales.db import reading
from fieldsales.errors import NotFound, Unprocessable
from fieldsales.maps import caching, grid, sql
from fieldsales.openapi import describe
from fieldsales.orgs.models import Org
from fieldsales.scope import Principal
from fieldsales.timeutil import local_day_bounds
from fieldsales.users.models import User
from fieldsales.visits.filters import visit_filters
from fieldsales.visits.models import Visit
from fieldsales.users.timezone import effective_timezone_sql

MAX_FEATURES = 5000
MAP_ROLES = ("admin", "manager", "hr")

describe(f"""
**Maps** (`/api/v1/maps/...`; managers see their own and their teams' visits, admin and hr the
org; reps get 403). Filters shared by visits, clusters and tiles: `from`/`to` on the check-in
time (an RFC 3339 time, or a date meaning that local day of the caller), `user_id`, `team_id`
(that team and the teams below it), `flagged` (true: with a flag, false: without), and `bbox`
(`MINLNG,MINLAT,MAXLNG,MAXLAT`, WGS-84). A user or team outside the caller's scope simply
matches nothing.
- `GET /maps/visits` answers `application/geo+json` (RFC 7946, `[lng, lat]`, 6 decimals), at
  most {MAX_FEATURES:,} features; more matches → 422 `too_many_features` (zoom in, narrow the
  filters, or use clusters or tiles).
- `GET /maps/clusters?zoom=` groups the same visits on a square Web Mercator grid of
  {grid.CLUSTER_CELL_PX} screen pixels at that zoom; the counts add up to the matching visits.
- `GET /maps/tiles/{{z}}/{{x}}/{{y}}.mvt` (XYZ scheme, z 0..{grid.MAX_ZOOM}): Mapbox Vector Tile,
  layer `visits`, extent {grid.MVT_EXTENT}, buffer {grid.MVT_BUFFER}; properties visit_id,
  user_id, user_name, customer_id, customer_name, at, status, flags (comma-separated),
  flagged, risk_score; at z ≤ {sql.DOT_MAX_ZOOM} only visit_id and flagged (a dot, red when
  flagged). A tile with no visit is 204; a tile outside the z/x/y ranges is 404.
- Caching (visits, clusters, tiles, routes): a strong `ETag` (a hash of every row the body is made
  from, so a late-synced visit, an auto-close, a new flag or a renamed customer changes it)
  and `Cache-Control`: `private, max-age={caching.PAST_MAX_AGE}` when `to` ends before the
  caller's local today (a route: when the rep's local day ended before it; past days still
  change now and then, so they are revalidated after {caching.PAST_MAX_AGE // 60} minutes),
  else `private, no-cache` (revalidate on every use).
  `If-None-Match` with a current ETag → 304 with no body (the body is not even built).
- `GET /maps/routes?user_id=&date=`: the rep's check-ins of that date in the rep's own time
  zone; the first feature is the LineString (`distance_m` on the spheroid; geometry null with
  fewer than two check-ins), then the check-in points numbered by `seq`. A user the caller
  cannot see is 404.
""")


class Answer(NamedTuple):
    """A map answer: its body (None: the caller's copy is current, 304), ETag, and whether the
    days asked for are over (caching.py)."""

    body: str | bytes | None
    etag: str
    past: bool


def _run(session, statement: sql.Statement):
    """The statement's one row, in `session`'s transaction."""
    return session.connection().exec_driver_sql(statement.sql, statement.params).one()


def _require_map_role(principal):
    principal.scope.require_role(*MAP_ROLES)


def _where(principal: Principal, filters: dict) -> list:
    """The caller's visible visits narrowed by the request's filters."""
    return [principal.scope.visits(), *visit_filters(principal, filters)]


def _answer(kind, query: sql.Cached, *, past: bool, current, cap=None) -> Answer:
    """Answer from the cheap fingerprint alone when `current(etag)` says the caller holds it,
    else build the body (its statement returns the fingerprint too); on the read session."""
    with reading() as session:
        if current is not None:
            matches, fingerprint = _run(session, query.fingerprint)
            tag = caching.etag(kind, fingerprint)
            if (cap is None or matches <= cap) and current(tag):
                return Answer(None, tag, past)
        *_, body, fingerprint = _run(session, query.body)
    if body is None:  # only /maps/visits leaves the body out: more than `cap` match
        raise Unprocessable(
            f"More than {cap:,} visits match: zoom in, narrow the filters, or use "
            "/maps/clusters or /maps/tiles.", error="too_many_features", limit=cap)
    return Answer(body, caching.etag(kind, fingerprint), past)


def visits_geojson(*, principal: Principal, filters: dict, current=None) -> Answer:
    """Matching check-ins as a GeoJSON FeatureCollection (text), at most MAX_FEATURES;
    `current(etag)`: does the caller already hold that answer (then the body is None)."""
    _require_map_role(principal)
    return _answer("v", sql.visits_geojson(_where(principal, filters), org_id=principal.org_id,
                                            cap=MAX_FEATURES),
                   past=caching.is_past(filters, principal.timezone), current=current,
                   cap=MAX_FEATURES)


def clusters_geojson(*, principal: Principal, filters: dict, current=None) -> Answer:
    """Matching check-ins grouped into grid clusters for `zoom` (text)."""
    _require_map_role(principal)
    filters = dict(filters)
    zoom = filters.pop("zoom")
    return _answer(f"c{zoom}", sql.clusters_geojson(_where(principal, filters), zoom=zoom),
                   past=caching.is_past(filters, principal.timezone), current=current)


def tile(*, principal: Principal, z: int, x: int, y: int, filters: dict,
         current=None) -> Answer:
    """The MVT bytes of one tile (empty when no visit is in it); 404 for no such tile."""
    _require_map_role(principal)
    if not grid.tile_exists(z, x, y):
        raise NotFound(f"No tile {z}/{x}/{y}: z is 0..{grid.MAX_ZOOM}, x and y 0..2^z - 1.")
    kind = "t" if z <= sql.DOT_MAX_ZOOM else "T"
    answer = _answer(kind, sql.tile_mvt(_where(principal, filters), org_id=principal.org_id,
                                          z=z, x=x, y=y),
                     past=caching.is_past(filters, principal.timezone), current=current)
    return answer if answer.body is None else answer._replace(body=bytes(answer.body))


def route_geojson(*, principal: Principal, user_id, day, current=None) -> Answer:
    """One rep's check-ins of a local day as a route (text); past: the rep's day ended before
    the caller's local today."""
    _require_map_role(principal)
    with reading() as session:
        row = session.execute(
            select(User.id, User.name, effective_timezone_sql())
            .join(Org, Org.id == User.org_id)
            .where(User.id == user_id, principal.scope.users())
        ).first()
    if row is None:
        raise NotFound("User not found.")
    _, name, tz = row
    start, end = local_day_bounds(day, tz)
    where = [principal.scope.visits(), Visit.user_id == user_id, Visit.in_at >= start,
             Visit.in_at < end]
    query = sql.route_geojson(where, org_id=principal.org_id, user_id=user_id, user_name=name,
                              day=day.isoformat())
    # the rep's name is in the route feature even on a day without check-ins
    kind = "r" + hashlib.blake2s(name.encode(), digest_size=4).hexdigest()
    return _answer(kind, query, past=caching.before_today(end, principal.timezone),
                   current=current)
