"""The `fieldsales` command: database, tenants, demo data and scheduled jobs."""
import json
import sys

import click

from config import settings


def _app():
    from fieldsales import create_app

    return create_app()


class Instant(click.ParamType):
    """An RFC 3339 time with an offset (for --now)."""

    name = "ISO_TIME"

    def convert(self, value, param, ctx):
        from datetime import datetime

        try:
            at = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            self.fail("expected an RFC 3339 time, e.g. 2026-11-22T18:00:00+08:00", param, ctx)
        if at.tzinfo is None:
            self.fail("the time needs an offset (e.g. Z or +08:00)", param, ctx)
        return at


INSTANT = Instant()


def _print_json(obj):
    click.echo(json.dumps(obj, default=str, ensure_ascii=False))


@click.group()
@click.version_option(package_name="fieldsales", prog_name="fieldsales")
def main():
    """fieldsales command line (reads the same FIELDSALES_* settings as the server)."""


@main.group()
def db():
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision):
    """Migrate the database to the newest schema."""
    from fieldsales.migrate import upgrade

    url = _database_url()
    upgrade(url, revision)
    click.echo(f"database at {revision}", err=True)


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision):
    """Migrate the database down to REVISION ('base' empties it)."""
    from fieldsales.migrate import downgrade

    downgrade(_database_url(), revision)


@db.command("url")
def db_url():
    """Print the database URL in use (psql "$(fieldsales db url)")."""
    click.echo(_database_url())


def _database_url():
    url = settings.load().DATABASE_URL
    if not url:
        raise click.ClickException("No database configured: set FIELDSALES_DATABASE_URL "
                                   "or run `make run` once to create the local cluster.")
    return url


@main.command()
@click.option("--name", default=None, help="Shown in procrastinate's worker table and logs")
def worker(name):
    """Run a job-queue worker (procrastinate) until SIGINT or SIGTERM: webhook deliveries and
    the periodic jobs (README "Jobs and schedules"). Run one or more beside the web server;
    they never send one delivery, nor run one tick of a job, twice."""
    from fieldsales.jobs.queue import run_worker

    run_worker(_app(), name=name)


@main.group()
def orgs():
    """Organisations (tenants)."""


def _admin_password(given, from_stdin):
    """The password from the option, else stdin's first line (--admin-password-stdin, or
    stdin is not a terminal), else a hidden, confirmed prompt."""
    if given is not None and from_stdin:
        raise click.UsageError("Give --admin-password or --admin-password-stdin, not both.")
    if given is not None:
        return given
    if from_stdin or not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise click.UsageError("No password on stdin (one line expected).")
        return line
    return click.prompt("Admin password", hide_input=True, confirmation_prompt=True,
                        err=True)


@orgs.command("create")
@click.argument("name")
@click.option("--admin-email", required=True)
@click.option("--admin-password", default=None,
              help="Visible in the process list and shell history: prefer the prompt or "
                   "--admin-password-stdin")
@click.option("--admin-password-stdin", is_flag=True,
              help="Read the password from the first line of stdin")
@click.option("--timezone", default="UTC", show_default=True)
def orgs_create(name, admin_email, admin_password, admin_password_stdin, timezone):
    """Create an org with its first admin; prints {"org_id", "admin_id"}. Without a password
    option it is asked for (hidden, twice), or read from stdin when that is not a terminal."""
    from fieldsales.errors import DomainError
    from fieldsales.orgs.service import create_org
    from fieldsales.schemas import validate_timezone

    try:
        validate_timezone(timezone)
    except Exception as exc:
        raise click.BadParameter(str(exc), param_hint="--timezone") from None
    admin_password = _admin_password(admin_password, admin_password_stdin)
    if len(admin_password) < 8:
        raise click.BadParameter("at least 8 characters", param_hint="--admin-password")
    with _app().app_context():
        try:
            org, admin = create_org(name=name, admin_email=admin_email,
                                    admin_password=admin_password, timezone=timezone)
        except DomainError as exc:  # create_org's unit of work has rolled back
            raise click.ClickException(exc.message) from None
        _print_json({"org_id": org.id, "admin_id": admin.id})


@main.group()
def seed():
    """Demo data."""


@seed.command("demo")
def seed_demo():
    """Create (or refresh) the demo org; idempotent. Prints the logins. Refused in production
    (its admin has a published password)."""
    from fieldsales.seed import seed_demo as run

    if settings.load().ENV_NAME == "production":
        click.echo("Error: `seed demo` creates users with a published password; it does not run "
                   "with FIELDSALES_ENV=production.", err=True)
        sys.exit(2)

    with _app().app_context():
        result = run(progress=lambda msg: click.echo(msg, err=True))
    _print_json(result)


@main.group()
def visits():
    """Visits (check-in / check-out)."""


@visits.command("close-stale")
@click.option("--now", "at", type=INSTANT, default=None, metavar="ISO_TIME",
              help="Evaluate as of this instant (RFC 3339 with offset); default: now")
def visits_close_stale(at):
    """Close visits left open past the end of the rep's local day; prints {"closed": N}."""
    from fieldsales.visits.service import close_stale

    with _app().app_context():
        _print_json({"closed": close_stale(at=at)})


@main.group()
def plans():
    """Visit plans."""


@plans.command("close-day")
@click.option("--now", type=INSTANT, default=None, metavar="ISO_TIME",
              help="Evaluate as of this instant (RFC 3339 with offset); default: now")
def plans_close_day(now):
    """Plans still planned after their local day become missed; prints {"missed": N}."""
    from fieldsales.plans.close_day import close_day

    with _app().app_context():
        missed = close_day(now=now, progress=lambda msg: click.echo(msg, err=True))
    _print_json({"missed": missed})


@main.group()
def contracts():
    """Contracts."""


@contracts.command("expire")
@click.option("--now", type=INSTANT, default=None, metavar="ISO_TIME",
              help="Evaluate as of this instant (RFC 3339 with offset); default: now")
def contracts_expire(now):
    """Active contracts past their end_date become expired; prints {"expired": N}."""
    from fieldsales.contracts.expire import expire

    with _app().app_context():
        expired = expire(now=now, progress=lambda msg: click.echo(msg, err=True))
    _print_json({"expired": expired})


@main.group()
def leads():
    """The lead pool."""


@leads.command("recycle")
@click.option("--now", type=INSTANT, default=None, metavar="ISO_TIME",
              help="Evaluate the rules as of this instant (RFC 3339 with offset); default: now")
@click.option("--dry-run", is_flag=True, help="Count what would happen; change nothing")
def leads_recycle(now, dry_run):
    """Return overdue claimed leads to their pools; prints {"recycled": N, "warned": M}."""
    from fieldsales.leads.recycle import recycle_overdue

    with _app().app_context():
        result = recycle_overdue(now=now, dry_run=dry_run,
                                 progress=lambda msg: click.echo(msg, err=True))
    _print_json(result)


@main.group()
def duplicates():
    """The duplicate guard (撞单)."""


@duplicates.command("report")
@click.option("--org-id", type=click.UUID, default=None, help="Only this organisation")
def duplicates_report(org_id):
    """List customers and live leads whose phone or company an older one holds (duplicates
    from before the guard); prints a JSON array."""
    from fieldsales.duplicates.report import clashes
    from fieldsales.extensions import db

    with _app().app_context():
        _print_json(clashes(db.session, org_id=org_id))


@main.group()
def backup():
    """Backups of the database and the photo store."""


@backup.command("create")
@click.option("--out", "out_root", default=None, type=click.Path(file_okay=False),
              help="Folder for backups (default: var/backups)")
def backup_create(out_root):
    """Dump the database and archive the photos; prints the backup folder as JSON."""
    from pathlib import Path

    from config.settings import ROOT
    from fieldsales.ops.backup import create

    cfg = settings.load()
    out = create(database_url=_database_url(), photo_dir=cfg.PHOTO_DIR,
                 out_root=Path(out_root) if out_root else ROOT / "var" / "backups",
                 progress=lambda msg: click.echo(msg, err=True))
    _print_json({"backup": str(out)})


@backup.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
def backup_restore(folder):
    """Restore FOLDER into the configured (empty) database and (empty) photo folder."""
    from pathlib import Path

    from fieldsales.ops.backup import restore

    cfg = settings.load()
    try:
        manifest = restore(folder=Path(folder), database_url=_database_url(),
                           photo_dir=cfg.PHOTO_DIR,
                           progress=lambda msg: click.echo(msg, err=True))
    except (ValueError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from None
    _print_json({"restored": folder, "photos": manifest["photos"]["files"]})


@main.group()
def audit():
    """The tamper-evident audit log."""


def _bad_argument(message):
    """Exit 2 with a JSON error on stderr (bad arguments, not a verification result)."""
    click.echo(json.dumps({"error": "bad_argument", "message": message}), err=True)
    sys.exit(2)


@audit.command("verify")
@click.option("--org-id", default=None, help="Verify one org's chains (default: every org)")
@click.option("--user-id", default=None, help="Verify one user's chain (default: every chain)")
@click.option("--photos", is_flag=True, help="Also check stored originals against their sha256")
def audit_verify(org_id, user_id, photos):
    """Verify chains, heads, the latest checkpoint and every sealed row; exit 0 when all
    verifies, 1 naming each problem, 2 for bad arguments."""
    import uuid

    from sqlalchemy import select

    from fieldsales.audit.verify import verify
    from fieldsales.extensions import db as database
    from fieldsales.users.models import User

    from fieldsales.orgs.models import Org

    ids = {}
    for name, value in (("--org-id", org_id), ("--user-id", user_id)):
        try:
            ids[name] = uuid.UUID(value) if value is not None else None
        except ValueError:
            _bad_argument(f"{name}: {value!r} is not a UUID")
    oid, uid = ids["--org-id"], ids["--user-id"]
    progress = lambda msg: click.echo(msg, err=True)  # noqa: E731
    with _app().app_context():
        if oid is not None and database.session.get(Org, oid) is None:
            _bad_argument(f"--org-id: no org {oid}")
        if uid is not None:
            user_org = database.session.scalar(select(User.org_id).where(User.id == uid))
            if user_org is None or (oid is not None and user_org != oid):
                _bad_argument(f"--user-id: no user {uid}" + (f" in org {oid}" if oid else ""))
            oid = user_org
        result = verify(org_id=oid, user_id=uid, progress=progress)
        if photos:
            from fieldsales.photos.integrity import damaged_originals

            damaged = damaged_originals(org_id=oid, user_id=uid, progress=progress)
            result["problems"] += damaged
            result["problems_total"] += len(damaged)
            result["ok"] = result["ok"] and not damaged
    _print_json(result)
    sys.exit(0 if result["ok"] else 1)


@audit.command("checkpoint")
def audit_checkpoint():
    """Write every chain's head, signed, to a new file in the checkpoint store (cron: hourly)."""
    from fieldsales.audit.checkpoint import write_checkpoint

    with _app().app_context():
        result = write_checkpoint()
    _print_json(result)


if __name__ == "__main__":
    main()
