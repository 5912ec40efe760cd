"""Test data from one package: `factories.org(...)`, `factories.user(...)` and the other core rows
here; lead, report, visit and photo rows in `tests.factories.leads`, `.reports`, `.visits` and
`.photos`. Rows are written through the models and committed (the `db` fixture rolls back)."""
from tests.factories.core import (PASSWORD, _save, customer, org, project, team, token_for,
                                  user)

APP = None  # set by the `app` fixture (tests/conftest.py)

__all__ = ["APP", "PASSWORD", "_save", "customer", "org", "project", "team", "token_for", "user"]
