"""Webhooks: subscriptions, an outbox written in the event's transaction, delivery by a job
queue (procrastinate), at least once, signed."""
from fieldsales.webhooks.outbox import emit  # noqa: F401
