"""What each target metric counts, as one SQL fragment per metric: rows of (user_id, at, day,
value) — who it is credited to, when it happened (a time `at`, or a local `day` already), how
much it adds — within the window `s` (s.lo, s.hi: a little wider than the periods asked for,
so an index on the time column can be used before the exact local-day test; s.first, s.last:
the days themselves). The owner's local day decides the period; the team of the time decides
the team (progress.py)."""

EVENTS = {
    # A won project counts its amount for its owner, on the day it was won (a reopened project
    # is no longer won: won_at is cleared).
    "won_amount": """
        SELECT p.owner_id AS user_id, p.won_at AS at, NULL::date AS day, p.amount AS value
          FROM projects p
         WHERE p.org_id = :org_id AND p.stage = 'won' AND p.amount IS NOT NULL
           AND p.won_at >= s.lo AND p.won_at < s.hi""",
    # A payment counts for its contract's owner, on the day it was received (a local date).
    "collected_amount": """
        SELECT c.owner_id, NULL::timestamptz, py.received_on, py.amount
          FROM payments py
          JOIN contracts c ON c.org_id = py.org_id AND c.id = py.contract_id
         WHERE py.org_id = :org_id AND py.received_on BETWEEN s.first AND s.last""",
    # A customer counts for its owner, on the day its card was created.
    "new_customers": """
        SELECT c.owner_id, c.created_at, NULL::date, 1::numeric
          FROM customers c
         WHERE c.org_id = :org_id AND c.created_at >= s.lo AND c.created_at < s.hi""",
    # A visit counts for its rep, on the day of the check-in.
    "visits": """
        SELECT v.user_id, v.in_at, NULL::date, 1::numeric
          FROM visits v
         WHERE v.org_id = :org_id AND v.in_at >= s.lo AND v.in_at < s.hi""",
    # A converted lead counts for whoever held it when it was converted (the ledger's
    # from_user_id), on the day of the conversion.
    "converted_leads": """
        SELECT e.from_user_id, e.at, NULL::date, 1::numeric
          FROM lead_events e
         WHERE e.org_id = :org_id AND e.action = 'converted'
           AND e.at >= s.lo AND e.at < s.hi""",
}


def events_sql() -> str:
    """Every metric's rows (metric, user_id, at, value) over the span `s` its targets need
    (a CTE of progress.py with columns metric, lo, hi); a metric no target asks for is not
    read."""
    # Only this module's constant fragments and metric names are joined: nothing from a request.
    return "\n UNION ALL ".join(
        f"SELECT '{metric}' AS metric, m.* FROM span s CROSS JOIN LATERAL ({sql}) m "  # noqa: S608
        f"WHERE s.metric = '{metric}'"
        for metric, sql in EVENTS.items())
