from fieldsales.extensions import Blueprint

from fieldsales.openapi import describe, replayed, responds
from fieldsales.auth.guard import current
from fieldsales.users import handover, service
from fieldsales.users.schemas import (HandoverResultSchema, HandoverSchema, UserCreateSchema,
                                      UserPatchSchema, UserQuerySchema, UserSchema)

blp = Blueprint("users", __name__, url_prefix="/api/v1", description="Users of the organisation")

describe("""
### Handover and deactivation

`POST /users/{id}/handover {to_user_id}` (admin, the user's managers) moves, in one
transaction, the user's customers (owner; `version` +1), its claimed leads (ledger `assigned`
with reason `handover`, the recipient's claim clock starts now), its plans still `planned`
for its today or later, and its active contracts to `to_user_id`, and answers how many of each
moved; a repeat moves nothing and answers zeros. Both users' audit chains get an entry listing
what moved. The recipient must be an active rep or manager the caller manages, not the user
itself (422 on `to_user_id`), in a team every moved lead's pool is open to (422), and stay
within each pool's holding limit (422 `holding_limit_reached`): then nothing moves.
Deactivating a user (`PATCH /users/{id} {active: false}`) returns its claimed leads to their
pools (ledger `released`, reason `user deactivated`, no cooldown), so nobody leaves with them.
""")


@blp.get("/users")
@blp.arguments(UserQuerySchema, location="query")
@blp.response(200, UserSchema(many=True))
@blp.paginate()
@responds(blp, 403)
def list_users(filters, pagination_parameters):
    """List users (admin and managers: their scope; hr: everyone; reps: 403)."""
    return service.list_users(principal=current(), filters=filters, page=pagination_parameters)


@blp.post("/users")
@blp.arguments(UserCreateSchema)
@blp.response(201, UserSchema)
@replayed(blp, UserSchema)
@responds(blp, 403, "email_taken")
def create_user(data):
    """Create a user (admin). Duplicate email → 409 email_taken."""
    user, created = service.create_user(principal=current(), data=data)
    return user, 201 if created else 200


@blp.get("/users/<uuid:user_id>")
@blp.response(200, UserSchema)
def get_user(user_id):
    """Get a user."""
    return service.get_user(principal=current(), user_id=user_id)


@blp.patch("/users/<uuid:user_id>")
@blp.arguments(UserPatchSchema)
@blp.response(200, UserSchema)
@responds(blp, 403, "email_taken", "self_lockout")
def update_user(data, user_id):
    """Change a user (admin). `active: false` deactivates, revokes every token and returns the
    user's claimed leads to their pools (ledger `released`)."""
    return service.update_user(principal=current(), user_id=user_id, data=data)


@blp.post("/users/<uuid:user_id>/handover")
@blp.arguments(HandoverSchema)
@blp.response(200, HandoverResultSchema)
@responds(blp, 403, 404, "holding_limit_reached")
def handover_user(data, user_id):
    """Move a user's customers, claimed leads, open plans and active contracts to another user
    (admin, the user's managers), in one transaction; how many of each moved (a repeat: 0)."""
    return handover.handover(principal=current(), user_id=user_id, to_user_id=data["to_user_id"])
