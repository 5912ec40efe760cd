"""Tamper-evident audit log (HMAC chain per user)."""
from fieldsales.audit.service import (  # noqa: F401
    EVIDENCE_VERSION, HEAD_PARAMS, Evidence, adopt, head_cte, head_lock_sql, pending_sql, record,
    register_evidence)
