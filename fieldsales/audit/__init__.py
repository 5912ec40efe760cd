"""Tamper-evident audit log (HMAC chain per user)."""
from fieldsales.audit.service import EVIDENCE_VERSION, record, register_evidence  # noqa: F401
