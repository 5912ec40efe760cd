from fieldsales.extensions import Blueprint

from fieldsales.openapi import replayed, responds
from fieldsales.auth.guard import current
from fieldsales.visits import service
from fieldsales.visits.schemas import CheckInSchema, CheckOutSchema, VisitQuerySchema, VisitSchema

blp = Blueprint("visits", __name__, url_prefix="/api/v1",
                description="Visits: check-in and check-out at customers, kept as evidence")


@blp.post("/visits")
@blp.arguments(CheckInSchema)
@blp.response(201, VisitSchema)
@replayed(blp, VisitSchema)
@responds(blp, 403, 404, 409)
def check_in(data):
    """Check in at a customer (closes the caller's open visit, flagged missing_check_out)."""
    visit, created = service.check_in(principal=current(), data=data)
    return visit, 201 if created else 200


@blp.post("/visits/<uuid:visit_id>/check-out")
@blp.arguments(CheckOutSchema)
@blp.response(200, VisitSchema)
@responds(blp, 403, "already_checked_out")
def check_out(data, visit_id):
    """Check out (the visit's rep only); an identical repeat returns the visit unchanged, a
    different one on a closed visit is 409 already_checked_out."""
    return service.check_out(principal=current(), visit_id=visit_id, data=data)


@blp.get("/visits")
@blp.arguments(VisitQuerySchema, location="query")
@blp.response(200, VisitSchema(many=True))
@blp.paginate()
def list_visits(filters, pagination_parameters):
    """Visits the caller may see, newest check-in first."""
    return service.list_visits(principal=current(), filters=filters,
                               page=pagination_parameters)


@blp.get("/visits/<uuid:visit_id>")
@blp.response(200, VisitSchema)
def get_visit(visit_id):
    """One visit with its check-in, check-out, flags and photos."""
    return service.get_visit(principal=current(), visit_id=visit_id)
