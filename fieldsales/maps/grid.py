"""Web Mercator arithmetic for map requests: tile ranges and the cluster grid (pure, no DB).

Maps on the web (Leaflet, MapLibre, OpenLayers) draw in EPSG:3857 with 256 px tiles: at zoom z
the world is 256 * 2**z pixels wide, so a cluster cell of a fixed size on screen is a fixed
number of Mercator metres at each zoom.
"""
import math

MAX_ZOOM = 22  # deeper than any base map serves; a z22 tile is ~10 m wide
WORLD_M = 2 * math.pi * 6378137.0  # EPSG:3857 world width in metres (40,075,016.69)
HALF_WORLD_M = WORLD_M / 2
MAX_LAT = 85.0511287798066  # Web Mercator's latitude limit (a square world)
TILE_PX = 256
CLUSTER_CELL_PX = 64  # one cluster per 64 x 64 screen pixels at most
MVT_EXTENT = 4096
MVT_BUFFER = 64  # points this close to a tile edge are drawn by both tiles (no clipped symbols)


def tile_exists(z: int, x: int, y: int) -> bool:
    """Is (z, x, y) a tile of the XYZ scheme (y grows southwards) within MAX_ZOOM?"""
    if not 0 <= z <= MAX_ZOOM:
        return False
    n = 1 << z
    return 0 <= x < n and 0 <= y < n


def cluster_cell_m(zoom: int) -> float:
    """Side of a cluster cell in Mercator metres at `zoom`."""
    return WORLD_M * CLUSTER_CELL_PX / (TILE_PX * (1 << zoom))


def mercator(lng: float, lat: float) -> tuple[float, float]:
    """(x, y) in EPSG:3857 metres; latitudes beyond the projection's limit are clamped."""
    lat = max(-MAX_LAT, min(MAX_LAT, lat))
    x = lng * HALF_WORLD_M / 180.0
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * 6378137.0
    return x, y


def cell_of(lng: float, lat: float, zoom: int) -> tuple[int, int]:
    """The cluster cell (column, row) a point falls in; the SQL builder groups the same way."""
    x, y = mercator(lng, lat)
    size = cluster_cell_m(zoom)
    return math.floor(x / size), math.floor(y / size)
