"""The effective time zone of a user (API.md: the user's own, else its org's, else UTC), in
Python and in SQL: the one owner of that rule."""
from sqlalchemy import func, literal

DEFAULT = "UTC"


def effective_timezone(user_timezone: str | None, org_timezone: str | None) -> str:
    """The IANA zone a user's local days are counted in."""
    return user_timezone or org_timezone or DEFAULT


def effective_timezone_sql(user_timezone=None, org_timezone=None):
    """SQL: effective_timezone of the given columns (users.timezone and orgs.timezone by
    default; the statement joins both)."""
    if user_timezone is None or org_timezone is None:
        from fieldsales.orgs.models import Org
        from fieldsales.users.models import User

        user_timezone = User.timezone if user_timezone is None else user_timezone
        org_timezone = Org.timezone if org_timezone is None else org_timezone
    return func.coalesce(user_timezone, org_timezone, literal(DEFAULT))
