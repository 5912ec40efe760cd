"""Structure rules read from the source (DESIGN.md "Habits"): the caller travels as an
argument, so nothing below the views reads the request's `flask.g`."""
import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parent.parent / "fieldsales"

# Modules that legitimately handle the request itself: views read the caller once and pass it
# on; the guard authenticates and stores it; logs and metrics time and label the request.
REQUEST_MODULES = {"auth/guard.py", "logs.py", "metrics.py"}


def _modules():
    for path in sorted(SOURCE.rglob("*.py")):
        name = path.relative_to(SOURCE).as_posix()
        yield name, ast.parse(path.read_text(), filename=str(path))


def _below_views(name):
    return name not in REQUEST_MODULES and not name.endswith("views.py")


def _flask_g_uses(tree):
    """Line numbers where a module imports flask's `g` or reads `flask.g`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "flask" and any(
                alias.name == "g" for alias in node.names):
            yield node.lineno
        if (isinstance(node, ast.Attribute) and node.attr == "g"
                and isinstance(node.value, ast.Name) and node.value.id == "flask"):
            yield node.lineno


def _request_principal_uses(tree):
    """Line numbers where a module imports the request-bound shims of fieldsales.scope."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "fieldsales.scope" and any(
                alias.name in ("scope", "current") for alias in node.names):
            yield node.lineno


@pytest.mark.parametrize("name,tree", list(_modules()), ids=lambda v: v if isinstance(v, str)
                         else "")
def test_nothing_below_the_views_reads_flask_g(name, tree):
    if _below_views(name):
        assert list(_flask_g_uses(tree)) == [], f"fieldsales/{name} reads flask.g"


@pytest.mark.parametrize("name,tree", list(_modules()), ids=lambda v: v if isinstance(v, str)
                         else "")
def test_the_caller_comes_as_an_argument_not_from_scope_shims(name, tree):
    assert list(_request_principal_uses(tree)) == [], (
        f"fieldsales/{name} takes the caller from fieldsales.scope.scope()/current(); views "
        "use fieldsales.auth.guard.current() and services principal.scope")
