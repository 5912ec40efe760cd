"""What each target metric counts, as one SQL fragment per metric: rows of (user_id, at,
value) — who it is credited to, when it happened, how much it adds — within the window `s`
(s.lo, s.hi: a little wider than the periods asked for, so an index on the time column can be
used before the exact local-day test). The owner's local day decides the period; the team of
the time decides the team (progress.py).

won_amount (projects.amount by won_at, the project owner's) and collected_amount
(payments.amount by received_on, the contract owner's) need the deals tables (issue 14) and
join here with them."""

EVENTS = {
    # A customer counts for its owner, on the day its card was created.
    "new_customers": """
        SELECT c.owner_id AS user_id, c.created_at AS at, 1::numeric AS value
          FROM customers c
         WHERE c.org_id = :org_id AND c.created_at >= s.lo AND c.created_at < s.hi""",
    # A visit counts for its rep, on the day of the check-in.
    "visits": """
        SELECT v.user_id, v.in_at, 1::numeric
          FROM visits v
         WHERE v.org_id = :org_id AND v.in_at >= s.lo AND v.in_at < s.hi""",
    # A converted lead counts for whoever held it when it was converted (the ledger's
    # from_user_id), on the day of the conversion.
    "converted_leads": """
        SELECT e.from_user_id, e.at, 1::numeric
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
