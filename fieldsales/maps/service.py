"""Map reads for managers, admin and hr: visits as GeoJSON, clusters, vector tiles, routes.

Every read starts from the caller's visible visits (principal.scope.visits()), so a manager's
map holds its own and its subtree's visits and nothing else; the request's filters
(visits/filters.py) are ANDed to it. Reps get 403: API.md lists maps for managers, admin and hr
(a rep's own visits are in GET /visits). The bodies are built by PostGIS (sql.py) and returned
as they come from the database.
"""
from sqlalchemy import select

from fieldsales.errors import NotFound, Unprocessable
from fieldsales.extensions import db
from fieldsales.maps import grid, sql
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
  flagged, risk_score. A tile with no visit is 204; a tile outside the z/x/y ranges is 404.
- `GET /maps/routes?user_id=&date=`: the rep's check-ins of that date in the rep's own time
  zone; the first feature is the LineString (`distance_m` on the spheroid; geometry null with
  fewer than two check-ins), then the check-in points numbered by `seq`. A user the caller
  cannot see is 404.
""")


def _run(statement: sql.Statement):
    """The statement's one row, in the request's transaction."""
    return db.session.connection().exec_driver_sql(statement.sql, statement.params).one()


def _require_map_role(principal):
    principal.scope.require_role(*MAP_ROLES)


def _where(principal: Principal, filters: dict) -> list:
    """The caller's visible visits narrowed by the request's filters."""
    return [principal.scope.visits(), *visit_filters(principal, filters)]


def visits_geojson(*, principal: Principal, filters: dict) -> str:
    """Matching check-ins as a GeoJSON FeatureCollection (text), at most MAX_FEATURES."""
    _require_map_role(principal)
    matches, body = _run(sql.visits_geojson(_where(principal, filters), cap=MAX_FEATURES))
    if body is None:
        raise Unprocessable(
            f"More than {MAX_FEATURES:,} visits match: zoom in, narrow the filters, or use "
            "/maps/clusters or /maps/tiles.", error="too_many_features", limit=MAX_FEATURES)
    return body


def clusters_geojson(*, principal: Principal, filters: dict) -> str:
    """Matching check-ins grouped into grid clusters for `zoom` (text)."""
    _require_map_role(principal)
    filters = dict(filters)
    zoom = filters.pop("zoom")
    return _run(sql.clusters_geojson(_where(principal, filters), zoom=zoom))[0]


def tile(*, principal: Principal, z: int, x: int, y: int, filters: dict) -> bytes:
    """The MVT bytes of one tile (empty when no visit is in it); 404 for no such tile."""
    _require_map_role(principal)
    if not grid.tile_exists(z, x, y):
        raise NotFound(f"No tile {z}/{x}/{y}: z is 0..{grid.MAX_ZOOM}, x and y 0..2^z - 1.")
    data = _run(sql.tile_mvt(_where(principal, filters), z=z, x=x, y=y))[0]
    return bytes(data) if data else b""


def route_geojson(*, principal: Principal, user_id, day) -> str:
    """One rep's check-ins of a local day as a route (text)."""
    _require_map_role(principal)
    row = db.session.execute(
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
    return _run(sql.route_geojson(where, user_id=user_id, user_name=name,
                                  day=day.isoformat()))[0]
