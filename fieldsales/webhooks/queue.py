"""The webhook task on the job queue (fieldsales.jobs registers it): a periodic task sends due
deliveries."""
import procrastinate

from fieldsales.jobs.context import app_context

# A tick every POLL_SECONDS defers one `send_due` job (procrastinate's periodic tasks: one job
# per tick across all workers; the queueing lock keeps at most one waiting, so a busy worker
# does not pile them up); each job sends at most JOB_LIMIT due deliveries, so that a worker
# told to stop finishes its job soon (the rest go with the next tick).
JOB_LIMIT = 20
POLL_SECONDS = 2
# Ahead of photo derivatives (priority 0) in the queue: a backlog of those, which the first GET
# can make on demand anyway, must not hold up deliveries due every few seconds.
PRIORITY = 10
tasks = procrastinate.Blueprint()


@tasks.periodic(cron=f"* * * * * */{POLL_SECONDS}", queueing_lock="webhooks.send_due",
                priority=PRIORITY)
@tasks.task(name="send_due_webhooks", pass_context=False)
def send_due(timestamp: int) -> int:
    """Send the deliveries due now (the periodic task)."""
    from fieldsales.webhooks.delivery import deliver_due

    with app_context():
        return deliver_due(limit=JOB_LIMIT)
