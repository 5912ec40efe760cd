"""The chosen SELECT is compiled once per shape (sql._compile): a later request with the same
shape and other values (another caller, another org, another day, a longer IN list) gets its
own values, exactly what compiling it afresh gives."""
import uuid
from datetime import date

from sqlalchemy.dialects.postgresql import psycopg

from fieldsales.maps import service, sql
from fieldsales.scope import Principal


def _fresh(where):
    compiled = sql._chosen(where).compile(dialect=psycopg.dialect(),
                                          compile_kwargs={"render_postcompile": True})
    params = {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in compiled.params.items()}
    return str(compiled), params


def test_cached_compiles_bind_each_requests_values(app, world, mapdata):
    days = [{"from_": date(2026, 11, d), "to": date(2026, 11, d)} for d in (19, 20)]
    cases = [(user, filters) for user in (world.mgr_east, world.mgr_west, world.admin,
                                          world.admin_b, world.hr)
             for filters in (*days, {"team_id": world.east.id}, {"team_id": world.north.id},
                             {"team_id": world.west.id, "flagged": True},
                             {"bbox": (121.0, 31.0, 122.0, 32.0)})]
    with app.test_request_context():
        sql._COMPILED.clear()
        for _ in range(2):  # the second round is all cache hits
            for user, filters in cases:
                principal = Principal.for_user(user, org_timezone="Asia/Shanghai")
                where = service._where(principal, filters)
                got = sql._compile(where)
                assert (got.sql, got.params) == _fresh(where), (user.role, filters)
        assert 0 < len(sql._COMPILED) < len(cases)
