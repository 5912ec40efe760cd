from fieldsales.extensions import Blueprint

from fieldsales.audit import service
from fieldsales.audit.schemas import (AuditEntrySchema, AuditQuerySchema, VerifyQuerySchema,
                                      VerifySchema)
from fieldsales.openapi import responds
from fieldsales.auth.guard import current

blp = Blueprint("audit", __name__, url_prefix="/api/v1",
                description="Tamper-evident audit log (HMAC-SHA256 chain per user)")


@blp.get("/audit")
@blp.arguments(AuditQuerySchema, location="query")
@blp.response(200, AuditEntrySchema(many=True))
@blp.paginate()
@responds(blp, 403)
def list_audit(filters, pagination_parameters):
    """Audit entries, newest first (admin, hr)."""
    return service.list_entries(principal=current(), filters=filters,
                                page=pagination_parameters)


@blp.get("/audit/verify")
@blp.arguments(VerifyQuerySchema, location="query")
@blp.response(200, VerifySchema)
@responds(blp, 403, 404)
def verify(args):
    """Verify the chains (hashes, heads, latest checkpoint) and that every visit, photo,
    daily report and lead event has its seal and matches it; name each problem (admin, hr)."""
    return service.verify_org(principal=current(), user_id=args.get("user_id"))
