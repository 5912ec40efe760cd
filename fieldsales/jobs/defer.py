"""Deferring a job inside a statement the caller sends anyway: a CTE that calls procrastinate's
own SQL entry point (procrastinate_defer_jobs_v1, what its Python defer() runs). The job exists
if and only if the caller's transaction commits, and costs no round trip of its own."""
import json

from sqlalchemy import String, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB


def job_cte(name: str, task_name: str, args: dict, *, queue: str = "default"):
    """(CTE text, its bind parameters) deferring `task_name` (namespaced, e.g.
    "photos:make_derivatives") with `args`; the statement must read from the CTE (SELECT ...
    FROM name), or PostgreSQL never runs it."""
    sql = (f"{name} AS (SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW("
           f":{name}_queue, :{name}_task, 0, NULL, NULL, :{name}_args, NULL)"
           f"::procrastinate_job_to_defer_v1])) AS job_id)")
    params = {f"{name}_queue": queue, f"{name}_task": task_name,
              f"{name}_args": json.loads(json.dumps(args, default=str))}
    types = [bindparam(f"{name}_queue", type_=String), bindparam(f"{name}_task", type_=String),
             bindparam(f"{name}_args", type_=JSONB)]
    return sql, params, types


def beside(sql: str, params: dict, types: list, job):
    """(sql, params, types) of the caller's statement with `job` (a job_cte named "job")
    deferred beside it rather than inside it. Only on Citus: procrastinate's tables stay
    local on the coordinator, and Citus cannot write them in a statement that also writes
    distributed tables. psycopg2 sends a query as text with its values quoted in, so both
    statements go in one round trip; with psycopg 3 the job is deferred first, on its own."""
    from fieldsales.extensions import db

    job_sql, job_params, job_types = job
    # Only job_cte's own SQL text is formatted in; its values are bound.
    alone = f"WITH {job_sql} SELECT 1 FROM job"  # noqa: S608
    if db.engine.dialect.driver == "psycopg2":
        return f"{sql}; {alone}", {**params, **job_params}, [*types, *job_types]
    db.session.execute(text(alone).bindparams(*job_types), job_params)
    return sql, params, types
