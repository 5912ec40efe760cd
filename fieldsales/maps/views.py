from flask import Blueprint as FlaskBlueprint
from flask import Response, current_app, render_template, request
from fieldsales.extensions import Blueprint

from fieldsales.maps import caching, service
from fieldsales.maps.schemas import (BBoxFilterSchema, ClusterCollectionSchema,
                                     ClusterQuerySchema, MapFilterSchema, RouteCollectionSchema,
                                     RouteQuerySchema, VisitCollectionSchema)
from fieldsales.openapi import responds
from fieldsales.auth.guard import current
from fieldsales.visits.flags import MEANINGS
from fieldsales.web import none_match

blp = Blueprint("maps", __name__, url_prefix="/api/v1",
                description="Maps of visits for managers, admin and hr (GeoJSON, clusters, "
                            "vector tiles, routes)")

# RFC 7946's media type: clients that send Accept: application/json still parse it as JSON.
GEOJSON = "application/geo+json"
MVT = "application/vnd.mapbox-vector-tile"


def _revalidating():
    """web.none_match when the request carries If-None-Match; else None, so that no statement
    computes a fingerprint nobody compares."""
    return none_match if request.headers.get("If-None-Match") else None


def _cached(answer: service.Answer, mimetype):
    """200 with the body, 204 for an empty tile, 304 when the caller's copy is current; with
    the ETag and Cache-Control of caching.py."""
    if answer.body is None:
        response = Response(status=304)
    elif answer.body:
        response = Response(answer.body, mimetype=mimetype)
    else:
        response = Response(status=204)
    return caching.respond(response, answer.etag, answer.past)


_CACHING = ("ETag (strong) and Cache-Control: `private, max-age=300` when `to` ends before "
            "the caller's local today, else `private, no-cache`; If-None-Match with the ETag → "
            "304 (the body is not rebuilt)")
_HEADERS = {"ETag": {"schema": {"type": "string"}},
            "Cache-Control": {"schema": {"type": "string"}}}


@blp.get("/maps/visits")
@blp.arguments(BBoxFilterSchema, location="query")
@blp.response(200, VisitCollectionSchema, content_type=GEOJSON, headers=_HEADERS)
@blp.alt_response(304, description=f"Not modified. {_CACHING}")
@responds(blp, 403, "too_many_features")
def map_visits(filters):
    """Check-in points of the visible visits as GeoJSON (more than 5,000 → 422
    too_many_features)."""
    return _cached(service.visits_geojson(principal=current(), filters=filters,
                                          current=_revalidating()), GEOJSON)


@blp.get("/maps/clusters")
@blp.arguments(ClusterQuerySchema, location="query")
@blp.response(200, ClusterCollectionSchema, content_type=GEOJSON, headers=_HEADERS)
@blp.alt_response(304, description=f"Not modified. {_CACHING}")
@responds(blp, 403)
def map_clusters(filters):
    """Visible visits grouped into clusters for a zoom level (counts add up exactly)."""
    return _cached(service.clusters_geojson(principal=current(), filters=filters,
                                            current=_revalidating()), GEOJSON)


@blp.get("/maps/tiles/<int:z>/<int:x>/<int:y>.mvt")
@blp.arguments(MapFilterSchema, location="query")
@blp.doc(responses={
    "200": {"description": f"Mapbox Vector Tile, layer `visits`. {_CACHING}",
            "headers": _HEADERS,
            "content": {MVT: {"schema": {"type": "string", "format": "binary"}}}},
    "204": {"description": "No visit in this tile (with the same ETag and Cache-Control)",
            "headers": _HEADERS},
    "304": {"description": "Not modified", "headers": _HEADERS}})
@responds(blp, 403)
def map_tile(filters, z, x, y):
    """Visible visits in one XYZ tile as a Mapbox Vector Tile (layer `visits`); empty → 204;
    z ≤ 10: properties visit_id and flagged only."""
    return _cached(service.tile(principal=current(), z=z, x=x, y=y, filters=filters,
                                current=_revalidating()), MVT)


@blp.get("/maps/routes")
@blp.arguments(RouteQuerySchema, location="query")
@blp.response(200, RouteCollectionSchema, content_type=GEOJSON, headers=_HEADERS)
@blp.alt_response(304, description="Not modified. ETag and Cache-Control as the other maps; "
                                   "past: the rep's local day ended before the caller's today")
@responds(blp, 403, 404)
def map_route(args):
    """One rep's route for a local day: a LineString through the check-ins, then the points."""
    return _cached(service.route_geojson(principal=current(), user_id=args["user_id"],
                                         day=args["date"], current=_revalidating()), GEOJSON)


# --- the manager map page (HTML, no auth: it logs in with the API) ---------------------------

page = FlaskBlueprint("map_page", __name__)


@page.get("/map")
def map_page():
    """The manager map (Leaflet, vendored; scripts in static files for the strict CSP)."""
    return render_template("map.html", tile_url=current_app.config["MAP_TILE_URL"],
                           tile_attribution=current_app.config["MAP_TILE_ATTRIBUTION"],
                           flag_meanings=MEANINGS)


# The page is registered with the API blueprint, so BLUEPRINTS stays the one list to extend.
blp.record_once(lambda state: state.app.register_blueprint(page))
