"""The scope's clauses as SQL text, for a hot path that folds them into one hand-written
statement (a data-modifying CTE) instead of reading the row first in a round trip of its own.

The clauses still come from Scope (one owner of every visibility rule): they are built once per
role shape for a principal whose ids are bind parameters (`:user_id`, `:org_id`, `:team_id`),
compiled to text with named parameters, and cached; `params(principal)` fills them in."""
import functools

from sqlalchemy import Uuid, bindparam
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.engine.interfaces import BindTyping

from fieldsales.scope import Principal

# Named parameters as text() reads them, and no `::UUID` casts after them (`:id::UUID` would
# not parse as a parameter there); the driver's own dialect still types the values.
_DIALECT = PGDialect(paramstyle="named")
_DIALECT.bind_typing = BindTyping.NONE

PRINCIPAL_PARAMS = ("user_id", "org_id", "team_id")


def shape(principal: Principal) -> tuple:
    """What the scope's clauses depend on besides the ids: the role, and whether the caller
    has a team."""
    return principal.role, principal.team_id is not None


@functools.cache
def template(shape: tuple) -> Principal:
    """A principal of that shape whose ids are bind parameters."""
    role, has_team = shape
    return Principal(id=bindparam("user_id", type_=Uuid), org_id=bindparam("org_id", type_=Uuid),
                     role=role, team_id=bindparam("team_id", type_=Uuid) if has_team else None,
                     name="", email="", timezone="UTC")


def params(principal: Principal) -> dict:
    return {"user_id": principal.id, "org_id": principal.org_id, "team_id": principal.team_id}


def compile_sql(stmt) -> tuple[str, dict]:
    """`stmt` (built from a template's scope) as SQL text with `:name` parameters, and the
    values of its constant parameters (e.g. a status compared with a literal)."""
    compiled = stmt.compile(dialect=_DIALECT)
    constants = {name: compiled.params[name] for bind, name in compiled.bind_names.items()
                 if bind.unique}
    return compiled.string, constants
