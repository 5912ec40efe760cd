"""HTTP caching of map answers (visits, clusters, tiles, routes): an ETag from a fingerprint of
what the body is built from, and a Cache-Control that depends on whether the days asked for are
over.

A past day still changes now and then: a phone syncs a visit days late, the auto-close closes a
forgotten visit, a photo adds a flag, a customer or rep is renamed. So even past answers are
not immutable: they are fresh for PAST_MAX_AGE seconds, then revalidated with If-None-Match,
which costs one cheap statement (sql.py's fingerprint: a hash over the chosen rows, no JSON, no
MVT) and answers 304 when nothing changed. Answers that reach today (or have no `to`) carry
`no-cache`: the client revalidates on every use, and still gets a 304 when nothing changed.
`private`: the answer is the caller's scope, never for a shared cache.
"""
from datetime import UTC, datetime

from flask import Response

from fieldsales.timeutil import local_date, local_day_bounds, upper_bound

PAST_MAX_AGE = 300  # a late sync shows on the manager's map within 5 minutes at most
FORMAT = "m1"  # bump when a body's format changes, so older ETags stop matching


def before_today(end: datetime, tz: str, now: datetime | None = None) -> bool:
    """Did a range ending (exclusive) at `end` end before the local today of zone `tz`?"""
    today = local_date(now or datetime.now(UTC), tz)
    return end <= local_day_bounds(today, tz)[0]


def is_past(filters: dict, tz: str, now: datetime | None = None) -> bool:
    """Does the requested range (`to`) end before the start of the caller's local today?"""
    return "to" in filters and before_today(upper_bound(filters["to"], tz), tz, now)


def etag(kind: str, fingerprint: str) -> str:
    """A strong ETag: the body is byte-for-byte a function of the fingerprinted rows."""
    return f'"{FORMAT}-{kind}-{fingerprint}"'


def respond(response: Response, tag: str, past: bool) -> Response:
    """Put the ETag and Cache-Control on a map answer (200, 204 or 304)."""
    response.set_etag(tag.strip('"'))
    response.cache_control.private = True
    if past:
        response.cache_control.max_age = PAST_MAX_AGE
    else:
        response.cache_control.no_cache = True
    return response
