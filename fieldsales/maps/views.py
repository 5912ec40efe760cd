from flask import Blueprint as FlaskBlueprint
from flask import Response, current_app, render_template
from fieldsales.extensions import Blueprint

from fieldsales.maps import service
from fieldsales.maps.schemas import (BBoxFilterSchema, ClusterCollectionSchema,
                                     ClusterQuerySchema, MapFilterSchema, RouteCollectionSchema,
                                     RouteQuerySchema, VisitCollectionSchema)
from fieldsales.openapi import responds
from fieldsales.auth.guard import current
from fieldsales.visits.flags import MEANINGS

blp = Blueprint("maps", __name__, url_prefix="/api/v1",
                description="Maps of visits for managers, admin and hr (GeoJSON, clusters, "
                            "vector tiles, routes)")

# RFC 7946's media type: clients that send Accept: application/json still parse it as JSON.
GEOJSON = "application/geo+json"
MVT = "application/vnd.mapbox-vector-tile"


def _geojson(text):
    return Response(text, mimetype=GEOJSON)


@blp.get("/maps/visits")
@blp.arguments(BBoxFilterSchema, location="query")
@blp.response(200, VisitCollectionSchema, content_type=GEOJSON)
@responds(blp, 403, "too_many_features")
def map_visits(filters):
    """Check-in points of the visible visits as GeoJSON (more than 5,000 → 422
    too_many_features)."""
    return _geojson(service.visits_geojson(principal=current(), filters=filters))


@blp.get("/maps/clusters")
@blp.arguments(ClusterQuerySchema, location="query")
@blp.response(200, ClusterCollectionSchema, content_type=GEOJSON)
@responds(blp, 403)
def map_clusters(filters):
    """Visible visits grouped into clusters for a zoom level (counts add up exactly)."""
    return _geojson(service.clusters_geojson(principal=current(), filters=filters))


@blp.get("/maps/tiles/<int:z>/<int:x>/<int:y>.mvt")
@blp.arguments(MapFilterSchema, location="query")
@blp.doc(responses={
    "200": {"description": "Mapbox Vector Tile, layer `visits`",
            "content": {MVT: {"schema": {"type": "string", "format": "binary"}}}},
    "204": {"description": "No visit in this tile"}})
@responds(blp, 403)
def map_tile(filters, z, x, y):
    """Visible visits in one XYZ tile as a Mapbox Vector Tile (layer `visits`); empty → 204."""
    data = service.tile(principal=current(), z=z, x=x, y=y, filters=filters)
    return Response(data, mimetype=MVT) if data else Response(status=204)


@blp.get("/maps/routes")
@blp.arguments(RouteQuerySchema, location="query")
@blp.response(200, RouteCollectionSchema, content_type=GEOJSON)
@responds(blp, 403, 404)
def map_route(args):
    """One rep's route for a local day: a LineString through the check-ins, then the points."""
    return _geojson(service.route_geojson(principal=current(), user_id=args["user_id"],
                                          day=args["date"]))


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
