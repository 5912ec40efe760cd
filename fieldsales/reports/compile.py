"""Compiling reps' local days from what actually happened, in SQL: one statement for any
number of (rep, day) pairs (a page of a manager's list costs one round trip, like one report).

What each number means (README "Daily reports and alerts"):
- visits, customers_visited, flagged_visits: visits whose check-in falls in the local day
  (a visit belongs to the day it started, even when it ends after midnight).
- first_check_in_at: the earliest of those check-ins; last_check_out_at: the latest check-out
  the rep made on them (visits closed automatically have none).
- working_minutes: from the first check-in to the last sign of work, i.e. the latest of the
  day's check-ins and check-outs, in whole minutes: the rep's working day in the field, travel
  between customers included (an automatic close is not a sign of work, so a forgotten
  check-out does not stretch the day to midnight).
- travel_km: the length on the spheroid (PostGIS geography) of the line through the day's
  check-in points in time order, like GET /maps/routes; 0 with fewer than two check-ins.
- photos: photos on those visits.
- leads_claimed: the rep's own claims in the day (the ledger's `claimed` events, claim and
  claim-next); leads a manager assigned to the rep are not the rep's doing and do not count,
  as they do not count towards the daily claim limit.
- follow_ups: the rep's lead follow-ups in the day plus the contact records it logged (calls,
  messages, meetings...), except the record a check-out writes for its visit (that visit is
  counted already) and the copies a lead conversion makes of the lead's follow-ups (counted
  already as lead follow-ups).
- plans, plans_done, plans_missed: the rep's plans for that local date (cancelled ones not
  counted), those done, those missed.
"""
import uuid
from datetime import datetime

from sqlalchemy import Date, Uuid, text

from fieldsales.extensions import db
from fieldsales.reports.rules import STATS_FIELDS
from fieldsales.timeutil import local_day_bounds

# One statement: per (rep, day), a lateral aggregate over the day's visits (an index range
# scan on ix_visits_user_in_at each) gives the visit stats and the visit list (as JSON, in
# check-in order), and small counting subqueries the rest.
_COMPILE = text("""
    WITH days AS (
        SELECT * FROM unnest(CAST(:user_ids AS uuid[]), CAST(:days AS date[]),
                             CAST(:starts AS timestamptz[]), CAST(:ends AS timestamptz[]))
            AS d(user_id, day, day_start, day_end)
    )
    SELECT d.user_id, d.day,
           s.visits, s.customers_visited, s.first_check_in_at, s.last_check_out_at,
           s.working_minutes, s.travel_km, s.flagged_visits, s.visit_list,
           (SELECT count(*) FROM visits v
             JOIN photos p ON p.org_id = v.org_id AND p.visit_id = v.id
             WHERE v.org_id = :org_id AND v.user_id = d.user_id
               AND v.in_at >= d.day_start AND v.in_at < d.day_end) AS photos,
           (SELECT count(*) FROM lead_events e
             WHERE e.org_id = :org_id AND e.to_user_id = d.user_id AND e.action = 'claimed'
               AND e.at >= d.day_start AND e.at < d.day_end) AS leads_claimed,
           (SELECT count(*) FROM lead_follow_ups f
             WHERE f.org_id = :org_id AND f.user_id = d.user_id
               AND f.created_at >= d.day_start AND f.created_at < d.day_end)
         + (SELECT count(*) FROM contact_records c
             WHERE c.org_id = :org_id AND c.user_id = d.user_id
               AND c.created_at >= d.day_start AND c.created_at < d.day_end
               AND c.visit_id IS NULL
               AND NOT EXISTS (
                   -- a conversion's copy keeps the follow-up's author, time, method and text
                   SELECT 1 FROM lead_follow_ups f
                    WHERE f.org_id = c.org_id AND f.user_id = c.user_id
                      AND f.created_at = c.created_at AND f.method = c.method
                      AND f.note = c.summary)) AS follow_ups,
           pl.plans, pl.plans_done, pl.plans_missed
    FROM days d
    CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE p.status <> 'cancelled') AS plans,
               count(*) FILTER (WHERE p.status = 'done') AS plans_done,
               count(*) FILTER (WHERE p.status = 'missed') AS plans_missed
        FROM plans p
        WHERE p.org_id = :org_id AND p.user_id = d.user_id AND p.planned_date = d.day
    ) pl
    CROSS JOIN LATERAL (
        SELECT count(*) AS visits,
               count(DISTINCT v.customer_id) AS customers_visited,
               min(v.in_at) AS first_check_in_at,
               max(v.out_at) AS last_check_out_at,
               coalesce(floor(extract(epoch FROM greatest(max(v.in_at), max(v.out_at))
                                                 - min(v.in_at)) / 60), 0)::int
                   AS working_minutes,
               CASE WHEN count(*) < 2 THEN 0 ELSE round(CAST(ST_Length(geography(
                   ST_MakeLine(v.in_geom ORDER BY v.in_at, v.id))) / 1000 AS numeric), 2)
               END::float AS travel_km,
               count(*) FILTER (WHERE cardinality(v.flags) > 0) AS flagged_visits,
               coalesce(jsonb_agg(jsonb_build_object(
                   'id', v.id, 'customer_id', v.customer_id, 'customer_name', c.name,
                   'check_in_at', v.in_at, 'check_out_at', v.out_at, 'flags', v.flags)
                   ORDER BY v.in_at, v.id), '[]') AS visit_list
        FROM visits v
        JOIN customers c ON c.org_id = v.org_id AND c.id = v.customer_id
        WHERE v.org_id = :org_id AND v.user_id = d.user_id
          AND v.in_at >= d.day_start AND v.in_at < d.day_end
    ) s
""").columns(user_id=Uuid, day=Date)



def _time(value):
    return None if value is None else datetime.fromisoformat(value)


def _visit(item: dict) -> dict:
    """One visit of the JSON list, typed as the rest of the stats are."""
    return {"id": uuid.UUID(item["id"]), "customer_id": uuid.UUID(item["customer_id"]),
            "customer_name": item["customer_name"], "check_in_at": _time(item["check_in_at"]),
            "check_out_at": _time(item["check_out_at"]), "flags": item["flags"] or []}


def compile_days(*, org_id, days) -> dict:
    """{(user_id, day): (stats, visits)} for `days`, an iterable of (user_id, day, timezone):
    each rep's local day in its own zone."""
    days = list(dict.fromkeys(days))
    if not days:
        return {}
    bounds = [local_day_bounds(day, tz) for _, day, tz in days]
    params = {"org_id": org_id, "user_ids": [str(u) for u, _, _ in days],
              "days": [day for _, day, _ in days], "starts": [b[0] for b in bounds],
              "ends": [b[1] for b in bounds]}
    return {(row["user_id"], row["day"]): ({k: row[k] for k in STATS_FIELDS},
                                           [_visit(v) for v in row["visit_list"]])
            for row in db.session.execute(_COMPILE, params).mappings()}
