"""The `fieldsales` command: database, tenants, demo data and scheduled jobs."""
import json
import sys

import click

from config import settings


def _app():
    from fieldsales import create_app

    return create_app()


def _print_json(obj):
    click.echo(json.dumps(obj, default=str, ensure_ascii=False))


@click.group()
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


@main.group()
def orgs():
    """Organisations (tenants)."""


@orgs.command("create")
@click.argument("name")
@click.option("--admin-email", required=True)
@click.option("--admin-password", required=True)
@click.option("--timezone", default="UTC", show_default=True)
def orgs_create(name, admin_email, admin_password, timezone):
    """Create an org with its first admin; prints {"org_id", "admin_id"}."""
    from fieldsales.errors import DomainError
    from fieldsales.extensions import db as database
    from fieldsales.orgs.service import create_org
    from fieldsales.schemas import validate_timezone

    try:
        validate_timezone(timezone)
    except Exception as exc:
        raise click.BadParameter(str(exc), param_hint="--timezone") from None
    if len(admin_password) < 8:
        raise click.BadParameter("at least 8 characters", param_hint="--admin-password")
    with _app().app_context():
        try:
            org, admin = create_org(name=name, admin_email=admin_email,
                                    admin_password=admin_password, timezone=timezone)
        except DomainError as exc:
            database.session.rollback()
            raise click.ClickException(exc.message) from None
        _print_json({"org_id": org.id, "admin_id": admin.id})


@main.group()
def seed():
    """Demo data."""


@seed.command("demo")
def seed_demo():
    """Create (or refresh) the demo org; idempotent. Prints the logins."""
    from fieldsales.seed import seed_demo as run

    with _app().app_context():
        result = run(progress=lambda msg: click.echo(msg, err=True))
    _print_json(result)


@main.group()
def leads():
    """The lead pool."""


@leads.command("recycle")
@click.option("--now", "now_", default=None, metavar="ISO_TIME",
              help="Evaluate the rules as of this instant (RFC 3339 with offset)")
@click.option("--dry-run", is_flag=True, help="Count what would happen; change nothing")
def leads_recycle(now_, dry_run):
    """Return overdue claimed leads to their pools; prints {"recycled": N, "warned": M}."""
    from datetime import datetime

    from fieldsales.leads.service import recycle_overdue

    now = None
    if now_:
        try:
            now = datetime.fromisoformat(now_)
        except ValueError:
            raise click.BadParameter("expected an RFC 3339 time", param_hint="--now") from None
        if now.tzinfo is None:
            raise click.BadParameter("give a UTC offset (e.g. 2026-01-31T08:00:00+08:00)",
                                     param_hint="--now")
    with _app().app_context():
        result = recycle_overdue(now=now, dry_run=dry_run,
                                 progress=lambda msg: click.echo(msg, err=True))
    _print_json(result)


@main.group()
def audit():
    """The tamper-evident audit log."""


@audit.command("verify")
@click.option("--user-id", default=None, help="Verify one user's chain (default: every chain)")
def audit_verify(user_id):
    """Verify the HMAC chains; exit 1 naming the first broken entry."""
    import uuid

    from fieldsales.audit.service import verify_all

    with _app().app_context():
        result = verify_all(user_id=uuid.UUID(user_id) if user_id else None,
                            progress=lambda msg: click.echo(msg, err=True))
    _print_json(result)
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
