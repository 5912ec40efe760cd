"""Webhook subscriptions, saved directly (the API's admin-only create is tested on its own)."""
from tests.factories.core import _save

SECRET = "s3cret-webhook-key-0123456789"


def webhook(org, url, events=("visit.flagged",), secret=SECRET, commit=True):
    from fieldsales.webhooks.models import Webhook

    return _save(Webhook(org_id=org.id, url=url, events=list(events), secret=secret),
                 commit=commit)
