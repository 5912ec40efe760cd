"""Map query parameters, and the GeoJSON shapes the map endpoints answer (for the OpenAPI
document: the bodies themselves are built by PostGIS, see sql.py)."""
import marshmallow as ma

from fieldsales.geo import BBoxParam
from fieldsales.maps import grid
from fieldsales.schemas import Day, StrictSchema, Timestamp
from fieldsales.timeutil import TimeOrDate
from fieldsales.visits.flags import ALL_FLAGS
from fieldsales.visits.models import VISIT_STATUSES

# --- query parameters ------------------------------------------------------------------------


class MapFilterSchema(StrictSchema):
    """Filters shared by /maps/visits, /maps/clusters and /maps/tiles."""

    from_ = TimeOrDate(data_key="from", metadata={
        "description": "Check-in at or after: RFC 3339 time, or a date (the start of that "
                       "local day in the caller's time zone)"})
    to = TimeOrDate(metadata={
        "description": "Check-in at or before: RFC 3339 time, or a date (the end of that "
                       "local day in the caller's time zone)"})
    user_id = ma.fields.UUID(metadata={"description": "One user's visits"})
    team_id = ma.fields.UUID(metadata={"description": "Users of this team and the teams below"})
    flagged = ma.fields.Boolean(metadata={"description": "true: visits with at least one flag; "
                                                         "false: visits with none"})


class BBoxFilterSchema(MapFilterSchema):
    bbox = BBoxParam(metadata={"description": "MINLNG,MINLAT,MAXLNG,MAXLAT (WGS-84): check-in "
                                              "point inside"})


class ClusterQuerySchema(BBoxFilterSchema):
    zoom = ma.fields.Integer(required=True, validate=ma.validate.Range(0, grid.MAX_ZOOM),
                             metadata={"description": "The map's zoom level (256 px tiles): "
                                                      "sets the grid cell size"})


class RouteQuerySchema(StrictSchema):
    user_id = ma.fields.UUID(required=True)
    date = Day(required=True, metadata={
        "description": "A local date (YYYY-MM-DD) in the rep's time zone"})


# --- GeoJSON output (documentation of the PostGIS-built bodies) ------------------------------

_LNG_LAT = ("[lng, lat] (WGS-84, at most 6 decimals)")


class PointSchema(ma.Schema):
    type = ma.fields.String(metadata={"enum": ["Point"]})
    coordinates = ma.fields.List(ma.fields.Float(), metadata={
        "description": _LNG_LAT, "minItems": 2, "maxItems": 2})


class LineStringSchema(ma.Schema):
    type = ma.fields.String(metadata={"enum": ["LineString"]})
    coordinates = ma.fields.List(ma.fields.List(ma.fields.Float()), metadata={
        "description": f"Positions {_LNG_LAT}, in check-in order", "minItems": 2})


class VisitPropertiesSchema(ma.Schema):
    visit_id = ma.fields.UUID()
    user_id = ma.fields.UUID()
    user_name = ma.fields.String()
    customer_id = ma.fields.UUID()
    customer_name = ma.fields.String()
    at = Timestamp(metadata={"description": "Check-in time (UTC)"})
    status = ma.fields.String(metadata={"enum": list(VISIT_STATUSES)})
    flags = ma.fields.List(ma.fields.String(metadata={"enum": list(ALL_FLAGS)}))
    risk_score = ma.fields.Integer()


class VisitFeatureSchema(ma.Schema):
    type = ma.fields.String(metadata={"enum": ["Feature"]})
    id = ma.fields.UUID(metadata={"description": "The visit id"})
    geometry = ma.fields.Nested(PointSchema, metadata={"description": "The check-in point"})
    properties = ma.fields.Nested(VisitPropertiesSchema)


class VisitCollectionSchema(ma.Schema):
    type = ma.fields.String(metadata={"enum": ["FeatureCollection"]})
    features = ma.fields.List(ma.fields.Nested(VisitFeatureSchema), metadata={
        "description": "Oldest check-in first"})


class ClusterPropertiesSchema(ma.Schema):
    count = ma.fields.Integer(metadata={"description": "Visits in the cluster"})
    flagged_count = ma.fields.Integer(metadata={"description": "Of which with a flag"})


class ClusterFeatureSchema(ma.Schema):
    type = ma.fields.String(metadata={"enum": ["Feature"]})
    bbox = ma.fields.List(ma.fields.Float(), metadata={
        "description": "[west, south, east, north] of the cluster's visits", "minItems": 4,
        "maxItems": 4})
    geometry = ma.fields.Nested(PointSchema, metadata={
        "description": "The mean position of the cluster's visits"})
    properties = ma.fields.Nested(ClusterPropertiesSchema)


class ClusterCollectionSchema(ma.Schema):
    type = ma.fields.String(metadata={"enum": ["FeatureCollection"]})
    features = ma.fields.List(ma.fields.Nested(ClusterFeatureSchema), metadata={
        "description": "Largest cluster first"})


class RouteGeometrySchema(ma.Schema):
    type = ma.fields.String(metadata={"enum": ["LineString", "Point"]})
    coordinates = ma.fields.Raw(metadata={
        "description": f"LineString: a list of positions; Point: one position {_LNG_LAT}"})


# A route feature carries the route's fields, a check-in feature the check-in's (`kind`).
_ONLY = {"x_optional": True}


class RoutePropertiesSchema(ma.Schema):
    kind = ma.fields.String(metadata={"enum": ["route", "check_in"]})
    # the route (first feature)
    user_id = ma.fields.UUID(metadata={"description": "route: the rep", **_ONLY})
    user_name = ma.fields.String(metadata={"description": "route: the rep's name", **_ONLY})
    date = Day(metadata={"description": "route: the local date", **_ONLY})
    visits = ma.fields.Integer(metadata={"description": "route: number of check-ins", **_ONLY})
    distance_m = ma.fields.Float(metadata={
        "description": "route: length of the line on the spheroid, metres (0 with fewer than "
                       "two check-ins)", **_ONLY})
    # the check-ins
    seq = ma.fields.Integer(metadata={"description": "check_in: 1, 2, … in time order", **_ONLY})
    visit_id = ma.fields.UUID(metadata=_ONLY)
    customer_id = ma.fields.UUID(metadata=_ONLY)
    customer_name = ma.fields.String(metadata=_ONLY)
    at = Timestamp(metadata=_ONLY)
    status = ma.fields.String(metadata={"enum": list(VISIT_STATUSES), **_ONLY})
    flags = ma.fields.List(ma.fields.String(metadata={"enum": list(ALL_FLAGS)}), metadata=_ONLY)
    risk_score = ma.fields.Integer(metadata=_ONLY)


class RouteFeatureSchema(ma.Schema):
    type = ma.fields.String(metadata={"enum": ["Feature"]})
    id = ma.fields.UUID(metadata={"description": "check_in: the visit id", **_ONLY})
    geometry = ma.fields.Nested(RouteGeometrySchema, allow_none=True, metadata={
        "description": "route: LineString (null with fewer than two check-ins); check_in: "
                       "Point"})
    properties = ma.fields.Nested(RoutePropertiesSchema)


class RouteCollectionSchema(ma.Schema):
    type = ma.fields.String(metadata={"enum": ["FeatureCollection"]})
    features = ma.fields.List(ma.fields.Nested(RouteFeatureSchema), metadata={
        "description": "The route first, then the check-ins in time order"})
