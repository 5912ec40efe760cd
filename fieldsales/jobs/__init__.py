"""The job queue (procrastinate on the app's PostgreSQL): the app and worker (queue.py), the
periodic tasks that replace the cron lines (schedule.py) and the Flask app tasks run in
(context.py). Domains keep their own tasks (webhooks/queue.py) and register them in queue.py."""
