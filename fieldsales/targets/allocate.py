"""Split a target into children: its quarters or months (same subject), or its period among
the subject's direct teams and people. One transaction; the parent row is locked first, so two
managers splitting the same target at once run one after the other, and the unique (metric,
period, subject) key stops them writing the same child twice (409 target_exists)."""
import marshmallow as ma

from fieldsales.db import transaction
from fieldsales.errors import field_error
from fieldsales.extensions import db
from fieldsales.scope import Principal
from fieldsales.targets import subjects
from fieldsales.targets.periods import parse
from fieldsales.targets.schemas import check_whole
from fieldsales.targets.service import get_target, new_target, writing_targets


def _check_child(principal: Principal, parent, index: int, child: dict):
    field = f"children.{index}"
    subject, period = child["subject"], child.get("period") or parse(parent.period)
    try:
        check_whole(child, parent.metric)
    except ma.ValidationError as exc:  # reported on this child
        raise field_error(f"{field}.amount", exc.messages[0]) from None
    subjects.check_exists(principal, subject, f"{field}.subject")
    same_subject = (subject["type"], subject["id"]) == (parent.subject_type, parent.subject_id)
    if same_subject:
        if not parse(parent.period).contains(period):
            raise field_error(f"{field}.period",
                              "The same subject's children split the parent's period into "
                              "its quarters or months.")
    elif period.text != parent.period:
        raise field_error(f"{field}.period",
                          "A child for another subject covers the parent's period.")
    elif not subjects.is_direct_part(principal, parent, subject["type"], subject["id"]):
        raise field_error(f"{field}.subject",
                          "Not one of the parent subject's direct teams or people.")
    return subject, period


def allocate(*, principal: Principal, target_id, children: list[dict]):
    """Write a target's children in one transaction; returns them."""
    principal.scope.require_writer()
    with transaction(), writing_targets():
        parent = get_target(principal=principal, target_id=target_id, for_update=True)
        subjects.require_may_split(principal, parent)
        written = []
        for i, child in enumerate(children):
            subject, period = _check_child(principal, parent, i, child)
            written.append(new_target(principal, metric=parent.metric, period=period,
                                      subject=subject, amount=child["amount"],
                                      parent_id=parent.id))
        db.session.flush()
    return written
