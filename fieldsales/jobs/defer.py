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


def defer_alone(job) -> None:
    """Run a job_cte("job", ...) as a statement of its own. Only on Citus: procrastinate's
    tables stay local on the coordinator, and Citus cannot write them in a statement that
    also writes distributed tables (one more round trip there, none on plain PostgreSQL)."""
    from fieldsales.extensions import db

    sql, params, types = job
    # Only job_cte's own SQL text is formatted in; its values are bound.
    db.session.execute(text(f"WITH {sql} SELECT 1 FROM job")  # noqa: S608
                       .bindparams(*types), params)
