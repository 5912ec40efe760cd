"""Tamper-evident audit log (HMAC chain per user)."""
from fieldsales.audit.service import (  # noqa: F401
    EVIDENCE_VERSION, Evidence, record, register_evidence)
