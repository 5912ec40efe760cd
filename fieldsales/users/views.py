from fieldsales.extensions import Blueprint

from fieldsales.openapi import replayed, responds
from fieldsales.auth.guard import current
from fieldsales.users import service
from fieldsales.users.schemas import (UserCreateSchema, UserPatchSchema, UserQuerySchema,
                                      UserSchema)

blp = Blueprint("users", __name__, url_prefix="/api/v1", description="Users of the organisation")


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
    """Change a user (admin). `active: false` deactivates and revokes every token."""
    return service.update_user(principal=current(), user_id=user_id, data=data)
