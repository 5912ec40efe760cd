import pytest
from sqlalchemy import delete

from tests import factories


@pytest.fixture
def org(app, committed):
    """A committed org; its webhooks (and their deliveries) are deleted afterwards, so no other
    test's sender finds them due."""
    from fieldsales.webhooks.models import Webhook

    org = factories.org()
    yield org
    with app.app_context():
        from fieldsales.extensions import db

        db.session.execute(delete(Webhook).where(Webhook.org_id == org.id))
        db.session.commit()
