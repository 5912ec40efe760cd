"""The scope's clauses as SQL text (no database): one text per role shape, the caller's ids as
named parameters text() can read, constants carried along."""
import re
import uuid

from sqlalchemy import Uuid, bindparam, select, text

from fieldsales import scope_sql
from fieldsales.leads.models import Lead, LeadPool
from fieldsales.scope import Principal


def _principal(role, team=True):
    return Principal(id=uuid.uuid4(), org_id=uuid.uuid4(), role=role,
                     team_id=uuid.uuid4() if team else None, name="n", email="e@x.dev",
                     timezone="UTC")


def _visible_lead_sql(shape):
    scope = scope_sql.template(shape).scope
    return scope_sql.compile_sql(select(Lead.id).where(
        Lead.id == bindparam("lead_id", type_=Uuid), scope.leads_to_claim()))


def test_callers_of_one_shape_share_one_template_and_the_ids_are_parameters():
    a, b = _principal("rep"), _principal("rep")
    assert scope_sql.shape(a) == scope_sql.shape(b) == ("rep", True)
    assert scope_sql.template(scope_sql.shape(a)) is scope_sql.template(scope_sql.shape(b))
    assert scope_sql.shape(_principal("rep", team=False)) == ("rep", False)
    assert scope_sql.params(a) == {"user_id": a.id, "org_id": a.org_id, "team_id": a.team_id}


def test_compiled_text_binds_the_callers_ids_by_name_and_reads_as_text():
    sql, constants = _visible_lead_sql(("rep", True))
    names = set(re.findall(r"(?<![:\w]):(\w+)", sql))
    assert {"lead_id", "org_id", "user_id", "team_id"} <= names
    assert "::" not in sql  # a cast after a parameter would not parse in text()
    # The pooled-status literal of Scope.leads() travels as a constant parameter.
    assert list(constants.values()) == ["pooled"] and set(constants) <= names
    assert set(text(sql).compile().params) == names


def test_each_role_shape_compiles_its_own_clause():
    admin, _ = scope_sql.compile_sql(select(LeadPool.id).where(
        scope_sql.template(("admin", False)).scope.lead_pools()))
    rep, _ = scope_sql.compile_sql(select(LeadPool.id).where(
        scope_sql.template(("rep", True)).scope.lead_pools()))
    teamless, _ = scope_sql.compile_sql(select(LeadPool.id).where(
        scope_sql.template(("rep", False)).scope.lead_pools()))
    assert "team_id" not in admin and ":team_id" in rep
    assert ":team_id" not in teamless and "lead_pools.team_id IS NULL" in teamless
