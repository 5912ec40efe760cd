from fieldsales.extensions import Blueprint

from fieldsales.auth.guard import current
from fieldsales.sync import service
from fieldsales.sync.schemas import SyncResponseSchema, SyncSchema

blp = Blueprint("sync", __name__, url_prefix="/api/v1",
                description="Offline queues: many events in one request")


@blp.post("/sync")
@blp.arguments(SyncSchema)
@blp.response(200, SyncResponseSchema)
def sync(data):
    """Apply an offline queue of check-ins, check-outs (and follow-ups) in order; each event
    gets the status and body its single endpoint would have given."""
    return {"results": service.sync(principal=current(), events=data["events"])}
