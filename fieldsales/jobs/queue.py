"""The procrastinate app with every task registered, and the worker `fieldsales worker` runs
(`make run` starts one beside gunicorn)."""
import procrastinate

from config import settings
from fieldsales.jobs import schedule
from fieldsales.jobs.context import set_app

# Two tasks at once per worker: a long close-day or recycle run does not hold up the webhook
# deliveries due every 2 s (sync tasks run in threads, each with its own app context).
CONCURRENCY = 2


def make_app(database_url: str, schedules: dict | None = None) -> procrastinate.App:
    """A procrastinate app on `database_url` (a libpq URL) with every task of the project;
    `schedules` overrides periodic tasks' cron lines by name (schedule.DEFAULTS)."""
    from fieldsales.photos.derivatives import tasks as photo_tasks
    from fieldsales.webhooks.queue import tasks as webhook_tasks

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=database_url))
    app.add_tasks_from(webhook_tasks, namespace="webhooks")
    app.add_tasks_from(photo_tasks, namespace="photos")
    app.add_tasks_from(schedule.blueprint(schedules or {}), namespace="jobs")
    return app


def run_worker(flask_app, name: str | None = None) -> None:
    """Run a worker in the foreground until SIGINT/SIGTERM (jobs it finished are deleted)."""
    set_app(flask_app)
    cfg = settings.load()
    url = flask_app.config.get("DATABASE_URL") or cfg.DATABASE_URL
    schedules = flask_app.config.get("JOB_SCHEDULES") or cfg.JOB_SCHEDULES
    make_app(url, schedules).run_worker(name=name, delete_jobs="successful",
                                        concurrency=CONCURRENCY,
                                        fetch_job_polling_interval=1.0)
