"""The job queue (procrastinate on the app's PostgreSQL): a periodic task sends due deliveries.
`fieldsales worker` runs it; `make run` starts one beside gunicorn."""
import procrastinate

from config import settings

# A tick every POLL_SECONDS defers one `send_due` job (procrastinate's periodic tasks: one job
# per tick across all workers; the queueing lock keeps at most one waiting, so a busy worker
# does not pile them up); each job sends at most JOB_LIMIT due deliveries, so that a worker
# told to stop finishes its job soon (the rest go with the next tick).
JOB_LIMIT = 20
POLL_SECONDS = 2
tasks = procrastinate.Blueprint()
_flask = {}


@tasks.periodic(cron=f"* * * * * */{POLL_SECONDS}", queueing_lock="webhooks.send_due")
@tasks.task(name="send_due_webhooks", pass_context=False)
def send_due(timestamp: int) -> int:
    """Send the deliveries due now (the periodic task)."""
    from fieldsales.webhooks.delivery import deliver_due

    with _flask["app"].app_context():
        return deliver_due(limit=JOB_LIMIT)


def make_app(database_url: str) -> procrastinate.App:
    """A procrastinate app on `database_url` (a libpq URL) with the webhook tasks."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=database_url))
    app.add_tasks_from(tasks, namespace="webhooks")
    return app


def run_worker(flask_app, name: str | None = None) -> None:
    """Run a worker in the foreground until SIGINT/SIGTERM (jobs it finished are deleted)."""
    _flask["app"] = flask_app
    url = flask_app.config.get("DATABASE_URL") or settings.load().DATABASE_URL
    make_app(url).run_worker(name=name, delete_jobs="successful", concurrency=1,
                             fetch_job_polling_interval=1.0)
