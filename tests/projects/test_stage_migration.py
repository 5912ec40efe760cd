"""Migration 0009 gives every existing project a first stage event from its current stage."""
from sqlalchemy import text

from fieldsales.migrate import downgrade, upgrade
from tests import factories
from tests.conftest import DB_URL


def test_existing_projects_get_a_first_event_from_their_stage(app, committed):
    from fieldsales.extensions import db

    org = factories.org()
    rep = factories.user(org)
    c = factories.customer(org, rep)
    won = factories.project(org, c, rep, stage="won", amount=10)
    demo = factories.project(org, c, rep, stage="demo")
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    downgrade(DB_URL, "0008")
    upgrade(DB_URL, "head")
    with app.app_context(), db.engine.connect() as conn:
        events = conn.execute(text(
            "SELECT e.project_id, e.from_stage, e.to_stage, e.at = p.updated_at AS at_last, "
            "p.won_at IS NOT NULL AS won FROM project_stage_events e JOIN projects p "
            "ON p.org_id = e.org_id AND p.id = e.project_id WHERE e.org_id = :org"),
            {"org": org.id}).all()
    assert sorted((e.project_id, e.from_stage, e.to_stage, e.at_last, e.won) for e in events) \
        == sorted([(won.id, None, "won", True, True), (demo.id, None, "demo", True, False)])
