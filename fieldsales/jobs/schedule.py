"""The periodic tasks that replace the cron lines: each calls the service its CLI command calls
(fieldsales/cli.py), on the schedule below (FIELDSALES_JOB_SCHEDULES overrides it by name).

procrastinate defers one job per tick across all workers (a tick is a row keyed by task and
timestamp), `queueing_lock` keeps at most one waiting, and `lock` runs at most one at a time:
a run that outlasts its interval makes the next one wait, never overlap."""
import logging
import time
from collections.abc import Callable

import procrastinate

from fieldsales.jobs.context import app_context

log = logging.getLogger(__name__)


def _close_stale():
    from fieldsales.visits.service import close_stale

    return {"closed": close_stale()}


def _close_day():
    from fieldsales.plans.close_day import close_day

    return {"missed": close_day()}


def _recycle():
    from fieldsales.leads.recycle import recycle_overdue

    return recycle_overdue()


def _expire():
    from fieldsales.contracts.expire import expire

    return {"expired": expire()}


def _alerts():
    from fieldsales.alerts.raised import evaluate

    return evaluate()


# name: (cron, what it runs). Minutes apart so that they do not all start at once; the cron
# lines in README "Production" are the same.
JOBS: dict[str, tuple[str, Callable[[], dict]]] = {
    "close_stale": ("5 * * * *", _close_stale),
    "recycle": ("10 * * * *", _recycle),
    "close_day": ("15 * * * *", _close_day),
    "expire": ("20 * * * *", _expire),
    # webhook alert.raised: how late a new alert may reach a subscriber
    "alerts": ("*/5 * * * *", _alerts),
}
DEFAULTS = {name: cron for name, (cron, _run) in JOBS.items()}


def _ticker(name: str, run: Callable[[], dict]):
    def tick(timestamp: int) -> dict:
        started = time.monotonic()
        with app_context():
            result = run()
        log.info("job %s done", name, extra={"job": name, "tick": timestamp, "result": result,
                                             "seconds": round(time.monotonic() - started, 3)})
        return result

    tick.__name__ = tick.__qualname__ = name
    tick.__doc__ = f"The periodic `{name}` job."
    return tick


def blueprint(schedules: dict[str, str]) -> procrastinate.Blueprint:
    """The periodic tasks, each on `schedules[name]` or its default cron line."""
    unknown = set(schedules) - set(JOBS)
    if unknown:
        raise ValueError(f"FIELDSALES_JOB_SCHEDULES: unknown job(s) {sorted(unknown)}; "
                         f"known: {sorted(JOBS)}")
    tasks = procrastinate.Blueprint()
    for name, (cron, run) in JOBS.items():
        task = tasks.task(name=name, pass_context=False)(_ticker(name, run))
        tasks.periodic(cron=schedules.get(name, cron), queueing_lock=f"jobs.{name}",
                       lock=f"jobs.{name}")(task)
    return tasks
