"""The effective time zone (API.md: the user's own, else the org's, else UTC) has one owner,
fieldsales.users.timezone, whose Python and SQL forms agree; every Principal gets it."""
import pytest
from sqlalchemy import String, literal, select

CASES = [("Asia/Tokyo", "Europe/Paris", "Asia/Tokyo"), (None, "Europe/Paris", "Europe/Paris"),
         (None, None, "UTC")]


@pytest.mark.parametrize("user_tz,org_tz,expected", CASES)
def test_python_and_sql_forms_agree(app, db, user_tz, org_tz, expected):
    from fieldsales.users.timezone import effective_timezone, effective_timezone_sql

    assert effective_timezone(user_tz, org_tz) == expected
    with app.app_context():
        in_sql = db.scalar(select(effective_timezone_sql(literal(user_tz, String),
                                                         literal(org_tz, String))))
    assert in_sql == expected


def test_a_principal_takes_the_users_own_zone_before_the_orgs(app, db):
    """The demo visit seed once built its principals with the org's zone only."""
    from fieldsales.scope import Principal
    from tests import factories

    org = factories.org(timezone="Asia/Shanghai")
    traveller = factories.user(org, "rep", timezone="America/New_York")
    stay_at_home = factories.user(org, "rep")
    assert Principal.for_user(traveller, org_timezone=org.timezone).timezone == \
        "America/New_York"
    assert Principal.for_user(stay_at_home, org_timezone=org.timezone).timezone == \
        "Asia/Shanghai"
