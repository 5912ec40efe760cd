"""Targets: set, list, change and publish (allocation: targets/allocate.py)."""
from contextlib import contextmanager
from decimal import Decimal

from sqlalchemy import and_, func, select, true
from sqlalchemy.exc import IntegrityError

from fieldsales import audit, idempotency
from fieldsales.db import paginate, transaction, violated
from fieldsales.errors import Conflict, Forbidden, Unprocessable, field_error
from fieldsales.extensions import db
from fieldsales.scope import Principal
from fieldsales.targets import subjects
from fieldsales.targets.models import Target


def exists_conflict():
    return Conflict("A target for this metric, period and subject already exists.",
                    error="target_exists")


@contextmanager
def writing_targets():
    """Turn the unique (metric, period, subject) key's violation into 409 target_exists
    (by SQLSTATE, never by constraint name: Citus suffixes shard ids)."""
    try:
        yield
    except IntegrityError as exc:
        if violated(exc, "23505"):
            raise exists_conflict() from None
        raise


def new_target(principal: Principal, *, metric, period, subject, amount, parent_id=None,
               data=None) -> Target:
    """A draft target row (added to the session) and its audit entry; not committed."""
    target = Target(org_id=principal.org_id, metric=metric, period=period.text,
                    starts=period.first, ends=period.last, subject_type=subject["type"],
                    subject_id=subject["id"], amount=amount, parent_id=parent_id,
                    status="draft")
    idempotency.stamp(target, principal=principal, data=data or {})
    db.session.add(target)
    audit.record(org_id=principal.org_id, user_id=principal.id, actor_id=principal.id,
                 action="target.created", entity_type="target", entity_id=target.id,
                 data={"metric": metric, "period": period.text, "subject_type": subject["type"],
                       "subject_id": subject["id"], "amount": str(amount),
                       "parent_id": parent_id})
    return target


def create_target(*, principal: Principal, data: dict):
    """Set a target for the org, a team or a user. Returns (target, created)."""
    principal.scope.require_writer()
    subject = data["subject"]

    def write():
        subjects.check_exists(principal, subject)
        subjects.require_may_set(principal, subject["type"], subject["id"])
        target = new_target(principal, metric=data["metric"], period=data["period"],
                            subject=subject, amount=data["amount"], data=_hashable(data))
        db.session.flush()
        return target

    with writing_targets():
        return idempotency.create(Target, principal=principal, data=_hashable(data),
                                  write=write)


def _hashable(data: dict) -> dict:
    """The request as JSON-like values (a period as its text), for the request digest."""
    return {**data, **({"period": data["period"].text} if "period" in data else {})}


def list_targets(*, principal: Principal, filters: dict, page):
    """Targets the caller may see, by period then metric."""
    return paginate(filtered(principal, filters).order_by(
        Target.starts, Target.ends.desc(), Target.metric, Target.subject_type,
        Target.created_at, Target.id), page)


def matches(filters: dict):
    """SQL: a target matches the metric, period, status, team or user filters."""
    clauses = [getattr(Target, key) == filters[key] for key in ("metric", "status")
               if key in filters]
    if "period" in filters:
        clauses.append(Target.period == filters["period"].text)
    for key, kind in (("team_id", "team"), ("user_id", "user")):
        if key in filters:
            clauses += [Target.subject_type == kind, Target.subject_id == filters[key]]
    return and_(true(), *clauses)


def filtered(principal: Principal, filters: dict):
    return select(Target).where(principal.scope.targets(), matches(filters))


def get_target(*, principal: Principal, target_id, for_update=False) -> Target:
    """One visible target."""
    return principal.scope.get(Target, target_id, principal.scope.targets(),
                               for_update=for_update)


def _require_creator_or_above(principal: Principal, target: Target):
    """The target's creator, the creator's managers, or an admin (403 otherwise)."""
    principal.scope.require_writer()
    if principal.is_admin or principal.id == target.created_by:
        return
    if principal.is_manager and target.created_by is not None and \
            principal.scope.manages_user(target.created_by):
        return
    raise Forbidden("Only whoever set this target or those above them may change it.")


def update_target(*, principal: Principal, target_id, data: dict) -> Target:
    """Change a target's amount; a published one only with a reason (audited)."""
    with transaction():
        target = get_target(principal=principal, target_id=target_id, for_update=True)
        _require_creator_or_above(principal, target)
        if target.status == "published" and not data.get("reason"):
            raise field_error("reason", "Say why a published target changes.")
        if data["amount"] != target.amount:
            before, target.amount = target.amount, data["amount"]
            audit.record(org_id=principal.org_id, user_id=principal.id, actor_id=principal.id,
                         action="target.changed", entity_type="target", entity_id=target.id,
                         data={"status": target.status, "amount_before": str(before),
                               "amount": str(target.amount), "reason": data.get("reason")})
    return target


def children_sums(target: Target) -> tuple[Decimal | None, Decimal | None]:
    """What the target's children add up to: those splitting its period (same subject) and
    those splitting its subject (same period); None for a kind it has none of."""
    same_subject = (Target.subject_type == target.subject_type) & \
        (Target.subject_id == target.subject_id)
    row = db.session.execute(select(
        func.sum(Target.amount).filter(same_subject),
        func.sum(Target.amount).filter(~same_subject),
    ).where(Target.org_id == target.org_id, Target.parent_id == target.id)).one()
    return row[0], row[1]


def publish_target(*, principal: Principal, target_id) -> Target:
    """Publish a target once each way it is split adds up to at least its amount."""
    with transaction():
        target = get_target(principal=principal, target_id=target_id, for_update=True)
        subjects.require_may_split(principal, target)
        if target.status == "published":
            return target
        short = [s for s in children_sums(target) if s is not None and s < target.amount]
        if short:
            raise Unprocessable(
                f"The children add up to {min(short)}, less than the target's {target.amount}.",
                error="allocation_short")
        target.status = "published"
        audit.record(org_id=principal.org_id, user_id=principal.id, actor_id=principal.id,
                     action="target.published", entity_type="target", entity_id=target.id,
                     data={"amount": str(target.amount)})
    return target
