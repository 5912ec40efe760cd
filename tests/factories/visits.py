"""Visit rows written straight into the table at chosen times, places and flags (reports,
alerts, attendance and maps read stored visits; the check-in rules have tests of their own that
go through the API). One row builder, `visit`; `day_visit` and `map_visit` are its shorthands."""
import uuid
from datetime import timedelta

from tests.factories.core import _save

SHANGHAI = (31.2304, 121.4737)  # (lat, lng) of People's Square, the default place of tests


def visit(rep, customer, *, in_at, out_at=None, auto_closed_at=None, point=None, flags=(),
          risk_score=0, commit=True):
    """A visit of `rep` at `customer` checked in at `in_at` (at `point`, default the
    customer's location); checked out at `out_at`, closed automatically at `auto_closed_at`,
    or left open."""
    from fieldsales.visits.models import Visit

    lat, lng = point or (customer.lat, customer.lng)
    fields = {}
    if out_at is not None:
        fields = dict(status="closed", closed_at=out_at, closed_by="rep", out_at=out_at,
                      out_device_time=out_at, out_received_at=out_at, out_lat=lat, out_lng=lng,
                      out_accuracy_m=10.0)
    elif auto_closed_at is not None:
        fields = dict(status="closed", closed_at=auto_closed_at, closed_by="auto")
    else:
        fields = dict(status="open")
    return _save(Visit(
        id=uuid.uuid4(), org_id=rep.org_id, user_id=rep.id, customer_id=customer.id,
        in_at=in_at, in_device_time=in_at, in_received_at=in_at, in_lat=lat, in_lng=lng,
        in_accuracy_m=10.0, in_provider="gps", in_mock=False, flags=list(flags),
        risk_score=risk_score, **fields), commit=commit)


def day_visit(user, customer, *, at, minutes=30, closed="rep", flags=()):
    """A visit by `user` in central Shanghai checked in at `at`: closed="rep" (checked out
    `minutes` later), "auto" (closed automatically, missing_check_out) or None (still open)."""
    end = at + timedelta(minutes=minutes)
    flags = list(flags) + (["missing_check_out"] if closed == "auto" else [])
    return visit(user, customer, in_at=at, point=SHANGHAI,
                 out_at=end if closed == "rep" else None,
                 auto_closed_at=end if closed == "auto" else None,
                 flags=flags, risk_score=min(100, 10 * len(flags)))


def map_visit(user, customer, *, lat, lng, at, flags=(), status="closed", risk_score=None,
              commit=True):
    """A stored visit of `user` at `customer`, checked in at (lat, lng) at `at` and, when
    closed, closed automatically half an hour later."""
    return visit(user, customer, in_at=at, point=(lat, lng),
                 auto_closed_at=at + timedelta(minutes=30) if status == "closed" else None,
                 flags=flags, risk_score=risk_score if risk_score is not None else 15 * len(flags),
                 commit=commit)
