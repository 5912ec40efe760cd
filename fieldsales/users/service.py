"""Users: listing within scope, creation and changes by admins."""
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from fieldsales import audit, idempotency
from fieldsales.auth import passwords
from fieldsales.auth import service as auth_service
from fieldsales.auth.service import revoke_all
from fieldsales.db import apply_changes, paginate, transaction
from fieldsales.errors import Conflict, Forbidden
from fieldsales.extensions import db
from fieldsales.scope import Principal
from fieldsales.users.models import User


def list_users(*, principal: Principal, filters: dict, page):
    """Users the caller may see (reps may not list users)."""
    if principal.is_rep:
        raise Forbidden("Reps may not list users.")
    stmt = select(User).where(principal.scope.users())
    if "role" in filters:
        stmt = stmt.where(User.role == filters["role"])
    if "team_id" in filters:
        stmt = stmt.where(User.team_id == filters["team_id"])
    if "active" in filters:
        stmt = stmt.where(User.active == filters["active"])
    if filters.get("q"):
        like = f"%{filters['q']}%"
        stmt = stmt.where(or_(User.name.ilike(like), User.email.ilike(like)))
    return paginate(stmt.order_by(User.name, User.id), page)


def get_user(*, principal: Principal, user_id):
    """One visible user."""
    return principal.scope.get(User, user_id, principal.scope.users())


def _email_holder(email):
    """The id of the user who has this email (case-insensitive), if any."""
    user = auth_service.user_by_email(email)
    return None if user is None else user.id


def _email_taken():
    return Conflict("A user with this email already exists.", error="email_taken")


def create_user(*, principal: Principal, data: dict):
    """Create a user in the caller's org (admin). Returns (user, created)."""
    principal.scope.require_role("admin")

    def write():
        principal.scope.require_team_in_org(data.get("team_id"))
        if (holder := _email_holder(data["email"])) is not None:
            if holder == data.get("id"):  # our own id holds it: a retry that committed first
                raise idempotency.DuplicateId()
            raise _email_taken()
        user = idempotency.stamp(User(
            org_id=principal.org_id, email=data["email"].strip(), name=data["name"],
            role=data["role"], team_id=data.get("team_id"), timezone=data.get("timezone"),
            tags=data.get("tags", []), level=data.get("level"),
            password_hash=passwords.hash_password(data["password"]),
        ), principal=principal, data=data)
        db.session.add(user)
        audit.record(org_id=principal.org_id, user_id=user.id, actor_id=principal.id,
                     action="user.created", entity_type="user", entity_id=user.id,
                     data={"email": user.email, "role": user.role, "team_id": user.team_id})
        return user

    try:
        return idempotency.create(User, principal=principal, data=data, write=write)
    except IntegrityError as exc:
        # The same e-mail in this org (uq_users_email_lower) or in another (the directory).
        if (idempotency.is_unique_violation(exc, "uq_users_email_lower")
                or idempotency.is_unique_violation(exc, "pk_user_emails")):
            raise _email_taken() from None
        raise


def update_user(*, principal: Principal, user_id, data: dict):
    """Change a user (admin); deactivating or a new password ends all their sessions."""
    with transaction():
        user = principal.scope.get(User, user_id, principal.scope.users(), for_update=True)
        principal.scope.require_role("admin")
        if user.id == principal.id and (
            data.get("active") is False or data.get("role", "admin") != "admin"
        ):
            raise Conflict("You cannot deactivate or demote yourself.", error="self_lockout")
        if "team_id" in data:
            principal.scope.require_team_in_org(data["team_id"])
        changed = apply_changes(user, data, ("name", "role", "team_id", "timezone", "active",
                                             "tags", "level"))
        if data.get("password"):
            user.password_hash = passwords.hash_password(data["password"])
            changed["password_changed"] = True
        if changed.get("active") is False or changed.get("password_changed"):
            revoke_all(user_id=user.id)
        if changed.get("active") is False:
            from fieldsales.users.handover import release_leads_of  # (leads import users)

            release_leads_of(principal=principal, user=user, now=datetime.now(UTC))
        if changed:
            audit.record(org_id=principal.org_id, user_id=user.id, actor_id=principal.id,
                         action="user.updated", entity_type="user", entity_id=user.id, data=changed)
    return user
