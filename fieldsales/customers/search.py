"""Customer search: filters, and nearest first within a radius.

The statements are built once per shape — the caller's role shape (fieldsales/scope_sql.py) and
which filters are present — with every value a bind parameter: building the KNN window's
subqueries afresh took ~10 ms of Python per request, more than running them."""
import functools

from sqlalchemy import (BigInteger, DateTime, Float, String, Uuid, bindparam, func, or_,
                        select)
from sqlalchemy.orm import aliased

from fieldsales import scope_sql
from fieldsales.customers.models import Customer
from fieldsales.extensions import db
from fieldsales.geo import make_point
from fieldsales.scope import Principal

_FILTERS = ("q", "owner_id", "team_id", "status", "tag", "updated_since")


def geog_point(lat, lng):
    return func.geography(make_point(lat, lng))


def customer_geog():
    # Matches the expression index ix_customers_geog.
    return func.geography(Customer.geom)


def within(geog, point, radius_m):
    return func.ST_DWithin(geog, point, radius_m)


def list_customers(*, principal: Principal, filters: dict, page):
    """Visible customers, filtered; with `near`, nearest first with distance_m."""
    present = frozenset(key for key in _FILTERS if key in filters)
    params = {**scope_sql.params(principal), **{key: filters[key] for key in present},
              "first": page.first_item, "size": page.page_size}
    if "q" in present:
        params["q"] = f"%{filters['q']}%"
    if "tag" in present:
        params["tags"] = [filters["tag"]]
    near = filters.get("near")
    radius = near is not None and filters.get("radius_m") is not None
    if near is not None:
        params.update(lat=near[0], lng=near[1], radius=filters.get("radius_m"),
                      window=3 * (page.first_item + page.page_size))
    count, page_stmt, knn_page, fallback = _statements(scope_sql.shape(principal), present,
                                                       near is not None, radius)
    page.item_count = total = db.session.scalar(count, params)
    if near is None:
        return db.session.scalars(page_stmt, params).all()
    rows = _knn_window(knn_page, params, page, total) or db.session.execute(fallback,
                                                                            params).all()
    for customer, distance_m, *_ in rows:
        customer.distance_m = round(distance_m, 1)
    return [row[0] for row in rows]


def _knn_window(stmt, params, page, total):
    """The page cut from the KNN window, or None when the window may have cut a tie or missed
    a match (see _statements): the caller runs the plain query then."""
    rows = db.session.execute(stmt, params).all()
    first, size, window = page.first_item, page.page_size, params["window"]
    # Whole window (every visible row), or the page ends strictly before the window's farthest
    # distance (so nothing ordered before it is outside) and is whole or the last one.
    if rows and (rows[0][4] < window or (rows[-1][2] < rows[-1][3] and (
            len(rows) == size or first + len(rows) == total))):
        return rows
    return None


@functools.cache
def _statements(shape: tuple, present: frozenset, near: bool, radius: bool):
    """(count, page) statements; with `near` (count, None, knn window page, plain page).

    An `ORDER BY <->, id` cannot use the GiST KNN scan (nor can a radius the planner misjudges),
    so a near page is cut from a window of the ~3x (offset + page size) nearest visible rows
    ordered by `<->` alone, the radius applied after; when that window may have cut a tie or
    missed a match the plain query runs instead: same answer."""
    stmt = _filtered(select(Customer).where(scope_sql.template(shape).scope.customers()),
                     present)
    first, size = bindparam("first", type_=BigInteger), bindparam("size", type_=BigInteger)
    if not near:
        return (_count(stmt), stmt.order_by(Customer.name, Customer.id).limit(size)
                .offset(first), None, None)
    point = geog_point(bindparam("lat", type_=Float), bindparam("lng", type_=Float))
    distance = bindparam("radius", type_=Float)
    stmt = stmt.where(Customer.geom.is_not(None))
    plain = stmt.where(within(customer_geog(), point, distance)) if radius else stmt
    knn = customer_geog().op("<->")(point)
    inner = (stmt.add_columns(knn.label("knn")).order_by(knn)
             .limit(bindparam("window", type_=BigInteger)).subquery())
    near_row = aliased(Customer, inner)
    window = select(near_row, inner.c.knn, func.max(inner.c.knn).over().label("wmax"),
                    func.count().over().label("wn")).subquery()
    near_row = aliased(Customer, window)
    knn_page = select(near_row, func.ST_Distance(func.geography(near_row.geom), point),
                      window.c.knn, window.c.wmax, window.c.wn)
    if radius:
        knn_page = knn_page.where(within(func.geography(near_row.geom), point, distance))
    knn_page = knn_page.order_by(window.c.knn, near_row.id).limit(size).offset(first)
    fallback = (plain.add_columns(func.ST_Distance(customer_geog(), point))
                .order_by(knn, Customer.id).limit(size).offset(first))
    return _count(plain), None, knn_page, fallback


def _count(stmt):
    return select(func.count()).select_from(stmt.order_by(None).subquery())


def _filtered(stmt, present):
    """`stmt` with the filters in `present`, their values bound by name."""
    if "q" in present:
        like = bindparam("q", type_=String)
        stmt = stmt.where(or_(Customer.name.ilike(like), Customer.address.ilike(like),
                              Customer.phone.ilike(like)))
    for key in ("owner_id", "team_id"):
        if key in present:
            stmt = stmt.where(getattr(Customer, key) == bindparam(key, type_=Uuid))
    if "status" in present:
        stmt = stmt.where(Customer.status == bindparam("status", type_=String))
    if "tag" in present:
        stmt = stmt.where(Customer.tags.contains(bindparam("tags", type_=Customer.tags.type)))
    if "updated_since" in present:
        stmt = stmt.where(Customer.updated_at >= bindparam("updated_since",
                                                           type_=DateTime(timezone=True)))
    return stmt
