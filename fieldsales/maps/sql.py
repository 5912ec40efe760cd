"""SQL builders of the map endpoints: GeoJSON and vector tiles are made by PostGIS, not Python.

Each builder takes `where`, the list of clauses choosing the visits (the caller's scope from
scope.py plus the request's filters, see service.py), and returns one SELECT whose single
row is the finished response body: JSON text (RFC 7946: [lng, lat], WGS-84, 6 decimals) or
MVT bytes. The service sends that text as it comes, so features are never decoded into Python
objects and encoded again. bench/map_*.py runs the very same statements through psycopg2 as
the raw baseline.
"""
from sqlalchemy import (JSON, Integer, Numeric, Text, and_, case, cast, func, literal,
                        literal_column, select, true)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from fieldsales.customers.models import Customer
from fieldsales.maps import grid
from fieldsales.users.models import User
from fieldsales.visits.models import Visit

DECIMALS = 6  # ~0.1 m: more would be noise, and API.md caps GeoJSON at 6


def utc_text(col):
    """A timestamptz as the API writes times (fieldsales.schemas.Timestamp): UTC with `Z`,
    microseconds only when there are any."""
    utc = func.timezone("UTC", col)
    fraction = case((func.extract("microseconds", col) % 1000000 == 0, ""),
                    else_=func.to_char(utc, ".US"))
    return func.concat(func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS'), fraction, "Z")


def _geojson(geom):
    return cast(func.ST_AsGeoJSON(geom, DECIMALS), JSON)


def _empty_array():
    return literal_column("'[]'::json")


def _collection(features_subquery):
    return func.json_build_object("type", "FeatureCollection", "features",
                                  func.coalesce(features_subquery, _empty_array()))


def _people(stmt, visit):
    """Join the rep's and the customer's names (both share the visit's org)."""
    return (stmt.select_from(visit)
            .join(User, and_(User.org_id == visit.c.org_id, User.id == visit.c.user_id))
            .join(Customer, and_(Customer.org_id == visit.c.org_id,
                                 Customer.id == visit.c.customer_id)))


def visits_geojson(where, *, cap: int):
    """(matches, FeatureCollection text) of check-in points. `matches` stops counting at
    cap + 1 (LIMIT, no count of everything) and the JSON is only built when matches <= cap,
    else it is NULL."""
    matches = (select(Visit.id, Visit.org_id, Visit.user_id, Visit.customer_id, Visit.in_at,
                      Visit.status, Visit.flags, Visit.risk_score, Visit.in_geom)
               .where(*where).limit(cap + 1).cte("matches"))
    feature = func.json_build_object(
        "type", "Feature", "id", matches.c.id,
        "geometry", _geojson(matches.c.in_geom),
        "properties", func.json_build_object(
            "visit_id", matches.c.id, "user_id", matches.c.user_id, "user_name", User.name,
            "customer_id", matches.c.customer_id, "customer_name", Customer.name,
            "at", utc_text(matches.c.in_at), "status", matches.c.status,
            "flags", matches.c.flags, "risk_score", matches.c.risk_score))
    features = _people(
        select(func.json_agg(aggregate_order_by(feature, matches.c.in_at, matches.c.id))),
        matches).scalar_subquery()
    count = select(func.count()).select_from(matches).scalar_subquery()
    body = case((count <= cap, cast(_collection(features), Text)), else_=None)
    return select(count.label("matches"), body.label("body"))


def clusters_geojson(where, *, zoom: int):
    """FeatureCollection text of clusters: the matching visits grouped by a square Web Mercator
    grid whose cell is grid.CLUSTER_CELL_PX screen pixels at `zoom`. Every visit falls in
    exactly one cell, so the counts add up to the number of matching visits. A cluster sits at
    the mean of its visits (inside its cell) and carries their bounding box (`bbox`)."""
    size = grid.cluster_cell_m(zoom)
    merc = func.ST_Transform(Visit.in_geom, 3857)
    col = func.floor(func.ST_X(merc) / size).label("col")
    row = func.floor(func.ST_Y(merc) / size).label("row")
    flagged = func.cardinality(Visit.flags) > 0
    cells = (select(col, row, func.count().label("n"),
                    func.count().filter(flagged).label("flagged"),
                    func.avg(Visit.in_lng).label("lng"), func.avg(Visit.in_lat).label("lat"),
                    func.min(Visit.in_lng).label("west"), func.min(Visit.in_lat).label("south"),
                    func.max(Visit.in_lng).label("east"), func.max(Visit.in_lat).label("north"))
             .where(*where).group_by(literal_column("col"), literal_column("row"))
             .subquery("cells"))

    def r(value):
        return func.round(cast(value, Numeric), DECIMALS)

    feature = func.json_build_object(
        "type", "Feature",
        "bbox", func.json_build_array(r(cells.c.west), r(cells.c.south), r(cells.c.east),
                                      r(cells.c.north)),
        "geometry", _geojson(func.ST_MakePoint(cells.c.lng, cells.c.lat)),
        "properties", func.json_build_object("count", cells.c.n,
                                             "flagged_count", cells.c.flagged))
    features = select(func.json_agg(aggregate_order_by(feature, cells.c.n.desc(), cells.c.col,
                                                       cells.c.row))).scalar_subquery()
    return select(cast(_collection(features), Text))


def tile_mvt(where, *, z: int, x: int, y: int):
    """The MVT bytes of tile z/x/y, layer `visits` (empty bytes: no visit in the tile).

    The GIST index is on the WGS-84 point, so the tile envelope (with the buffer margin) is
    transformed to 4326 for the filter, and only the matching points are projected to 3857."""
    envelope = func.ST_TileEnvelope(z, x, y)
    margin = grid.MVT_BUFFER / grid.MVT_EXTENT
    bounds = func.ST_MakeEnvelope(-grid.HALF_WORLD_M, -grid.HALF_WORLD_M, grid.HALF_WORLD_M,
                                  grid.HALF_WORLD_M, 3857)
    search = func.ST_Transform(func.ST_TileEnvelope(z, x, y, bounds, margin), 4326)
    visits = (select(Visit.id, Visit.org_id, Visit.user_id, Visit.customer_id, Visit.in_at,
                     Visit.status, Visit.flags, Visit.risk_score, Visit.in_geom)
              .where(*where, Visit.in_geom.op("&&")(search)).subquery("v"))
    rows = _people(select(
        func.ST_AsMVTGeom(func.ST_Transform(visits.c.in_geom, 3857), envelope, grid.MVT_EXTENT,
                          grid.MVT_BUFFER, true()).label("geom"),
        cast(visits.c.id, Text).label("visit_id"),
        cast(visits.c.user_id, Text).label("user_id"), User.name.label("user_name"),
        cast(visits.c.customer_id, Text).label("customer_id"),
        Customer.name.label("customer_name"),
        utc_text(visits.c.in_at).label("at"), visits.c.status.label("status"),
        func.array_to_string(visits.c.flags, ",").label("flags"),
        (func.cardinality(visits.c.flags) > 0).label("flagged"),
        cast(visits.c.risk_score, Integer).label("risk_score"),
    ), visits).subquery("t")
    return select(func.ST_AsMVT(literal_column("t"), literal("visits"), grid.MVT_EXTENT,
                                literal("geom"))).select_from(rows)


def route_geojson(where, *, user_id, user_name, day: str):
    """FeatureCollection text of one rep's day: first a LineString through the check-ins in
    time order (geometry null with fewer than two) with `distance_m` measured on the spheroid,
    then the check-in points numbered by `seq`."""
    stops = (select(Visit.id, Visit.org_id, Visit.user_id, Visit.customer_id, Visit.in_at,
                    Visit.status, Visit.flags, Visit.risk_score, Visit.in_geom,
                    func.row_number().over(order_by=(Visit.in_at, Visit.id)).label("seq"))
             .where(*where).cte("stops"))
    line = func.ST_MakeLine(aggregate_order_by(stops.c.in_geom, stops.c.seq))
    n = func.count()
    line_feature = select(
        literal(0).label("seq"),
        func.json_build_object(
            "type", "Feature",
            "geometry", case((n >= 2, _geojson(line)), else_=None),
            "properties", func.json_build_object(
                "kind", "route", "user_id", literal(str(user_id)), "user_name",
                literal(user_name), "date", literal(day), "visits", n,
                "distance_m", func.coalesce(
                    func.round(cast(func.ST_Length(func.geography(line)), Numeric), 1), 0)),
        ).label("feature")).select_from(stops)
    point_feature = _people(select(
        stops.c.seq,
        func.json_build_object(
            "type", "Feature", "id", stops.c.id,
            "geometry", _geojson(stops.c.in_geom),
            "properties", func.json_build_object(
                "kind", "check_in", "seq", stops.c.seq, "visit_id", stops.c.id,
                "customer_id", stops.c.customer_id, "customer_name", Customer.name,
                "at", utc_text(stops.c.in_at), "status", stops.c.status,
                "flags", stops.c.flags, "risk_score", stops.c.risk_score),
        ).label("feature")), stops)
    both = line_feature.union_all(point_feature).subquery("features")
    features = select(func.json_agg(aggregate_order_by(both.c.feature, both.c.seq)))
    return select(cast(_collection(features.scalar_subquery()), Text))
