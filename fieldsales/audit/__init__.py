"""Tamper-evident audit log (HMAC chain per user)."""
from fieldsales.audit.service import record, register_evidence  # noqa: F401
