"""Which customers and live leads share a key with an older holder: the duplicates that existed
before the guard (the migration kept the oldest holder of each key), listed by
`fieldsales duplicates report` for someone to merge or close."""
from sqlalchemy import text

_CLASHES = text("""
SELECT o.type, o.org_id, o.id, o.name, o.kind, o.value,
       coalesce(k.customer_id, k.lead_id) AS held_by_id,
       CASE WHEN k.customer_id IS NULL THEN 'lead' ELSE 'customer' END AS held_by_type
FROM (
    SELECT 'customer' AS type, c.org_id, c.id, c.name, v.kind, v.value FROM customers c
    CROSS JOIN LATERAL (VALUES ('phone', fs_phone_key(c.phone)),
                               ('company', fs_company_key(c.name))) v (kind, value)
    WHERE c.org_id = :org_id OR CAST(:org_id AS uuid) IS NULL
    UNION ALL
    SELECT 'lead', l.org_id, l.id, l.name, v.kind, v.value FROM leads l
    CROSS JOIN LATERAL (VALUES ('phone', l.phone_normalized),
                               ('company', fs_company_key(l.company))) v (kind, value)
    WHERE l.status IN ('pooled', 'claimed')
      AND (l.org_id = :org_id OR CAST(:org_id AS uuid) IS NULL)
) o
JOIN party_keys k ON k.org_id = o.org_id AND k.kind = o.kind AND k.value = o.value
WHERE coalesce(k.customer_id, k.lead_id) <> o.id
ORDER BY o.org_id, o.kind, o.value, o.type, o.id
""")


def clashes(session, *, org_id=None) -> list[dict]:
    """Each customer or live lead whose phone or company key an older holder has."""
    return [dict(row._mapping) for row in session.execute(_CLASHES, {"org_id": org_id})]
