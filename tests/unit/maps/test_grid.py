"""Web Mercator arithmetic of the map endpoints (no database)."""
import pytest

from fieldsales.maps import grid


@pytest.mark.parametrize("z, x, y, ok", [
    (0, 0, 0, True), (0, 1, 0, False), (3, 7, 7, True), (3, 8, 0, False), (3, 0, 8, False),
    (22, 2**22 - 1, 0, True), (23, 0, 0, False), (-1, 0, 0, False), (5, -1, 0, False),
])
def test_tile_exists(z, x, y, ok):
    assert grid.tile_exists(z, x, y) is ok


def test_cell_size_halves_with_each_zoom_and_is_64_pixels():
    assert grid.cluster_cell_m(0) == pytest.approx(40075016.686 / 4, rel=1e-9)
    for z in range(1, 23):
        assert grid.cluster_cell_m(z) == pytest.approx(grid.cluster_cell_m(z - 1) / 2)
    # at zoom 12 one pixel is ~38.2 m at the equator: 64 px ~ 2,446 m
    assert grid.cluster_cell_m(12) == pytest.approx(2445.98, abs=0.01)


def test_mercator_known_points():
    assert grid.mercator(0, 0) == pytest.approx((0, 0), abs=1e-6)
    assert grid.mercator(180, 0)[0] == pytest.approx(20037508.3428, abs=1e-3)
    # PostGIS: ST_Transform(ST_SetSRID(ST_MakePoint(121.4737, 31.2304), 4326), 3857)
    assert grid.mercator(121.4737, 31.2304) == pytest.approx((13522390.4288, 3662707.2571),
                                                             abs=1e-3)
    assert grid.mercator(0, 89.9)[1] == grid.mercator(0, grid.MAX_LAT)[1]  # clamped


def test_cells_split_at_the_origin_and_hold_neighbours():
    assert grid.cell_of(0.0001, 0.0001, 10) == (0, 0)
    assert grid.cell_of(-0.0001, -0.0001, 10) == (-1, -1)
    a = grid.cell_of(121.4737, 31.2304, 8)
    assert grid.cell_of(121.4738, 31.2305, 8) == a
    assert grid.cell_of(121.4737 + 2, 31.2304, 8) != a
