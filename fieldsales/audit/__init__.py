"""Tamper-evident audit log (HMAC chain per user)."""
from fieldsales.audit.service import (  # noqa: F401
    EVIDENCE_VERSION, HEAD_PARAMS, Evidence, adopt, create_head, head_cte, head_lock_sql,
    head_update_sql, pending_sql, record, register_evidence)
