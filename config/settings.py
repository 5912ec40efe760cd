"""Settings: every value comes from a FIELDSALES_* environment variable, with the defaults below.

FIELDSALES_ENV picks the class: production, development (default) or test.
"""
import json
import os
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


def env(name, default=None, cast=str):
    raw = os.environ.get(f"FIELDSALES_{name}")
    if raw is None or raw == "":
        return default
    if cast is bool:
        return raw.lower() in ("1", "true", "yes", "on")
    if cast is list:
        return [part.strip() for part in raw.split(",") if part.strip()]
    return cast(raw)


def local_cluster_url(dbname="fieldsales"):
    """URL of the project's own cluster under var/pg (made by `make run`), if there is one."""
    pw = ROOT / "var" / "pg" / "app.pw"
    try:
        password = pw.read_text().strip()
    except OSError:
        return None
    port = os.environ.get("FIELDSALES_PG_PORT", "54320")
    return f"postgresql://fieldsales:{password}@127.0.0.1:{port}/{dbname}"


class Config:
    ENV_NAME = "development"
    DATABASE_URL = env("DATABASE_URL") or local_cluster_url()
    # A streaming replica for the reads that may lag by its replay delay (maps, attendance and
    # its exports: fieldsales.db.reading()); unset, they read the primary.
    READ_DATABASE_URL = env("READ_DATABASE_URL")
    # psycopg2 (the design card's driver) or psycopg (psycopg 3); see sqlalchemy_url().
    DB_DRIVER = env("DB_DRIVER", "psycopg2")
    # psycopg 3 only: prepare a statement on the server after this many runs on a connection
    # (psycopg's default, 5); `none` never prepares, which PgBouncer < 1.21 in transaction mode
    # needs (README "Scaling out").
    DB_PREPARE_THRESHOLD = env("DB_PREPARE_THRESHOLD", 5,
                               lambda raw: None if raw.lower() == "none" else int(raw))
    DB_POOL_SIZE = env("DB_POOL_SIZE", 5, int)
    DB_STATEMENT_TIMEOUT_MS = env("DB_STATEMENT_TIMEOUT_MS", 30000, int)
    # Short OLTP queries: JIT compilation and parallel workers cost more than they save here
    # (measured on customers_near: p50 47 ms with both on, 35 ms with both off).
    DB_SESSION_OPTIONS = env("DB_SESSION_OPTIONS",
                             "-c jit=off -c max_parallel_workers_per_gather=0")
    # Signs access tokens (HS256). Production refuses to start without one.
    SECRET_KEY = env("SECRET_KEY")
    # Keys the HMAC audit chain. Production refuses to start without one.
    AUDIT_KEY = env("AUDIT_KEY")
    ACCESS_TOKEN_TTL_S = env("ACCESS_TOKEN_TTL_S", 900, int)
    REFRESH_TOKEN_TTL_S = env("REFRESH_TOKEN_TTL_S", 30 * 86400, int)
    # Failed logins: this many per (email, client) within the window locks that pair.
    LOGIN_MAX_FAILURES = env("LOGIN_MAX_FAILURES", 5, int)
    LOGIN_WINDOW_S = env("LOGIN_WINDOW_S", 900, int)
    # argon2id cost (RFC 9106 "second recommended" profile is 3 passes, 64 MiB).
    ARGON2_TIME_COST = env("ARGON2_TIME_COST", 3, int)
    ARGON2_MEMORY_KIB = env("ARGON2_MEMORY_KIB", 65536, int)
    MAX_JSON_BYTES = env("MAX_JSON_BYTES", 1024 * 1024, int)
    # Reverse proxies in front of gunicorn (nginx: 1). Only then is X-Forwarded-For believed
    # (the login throttle and the logs use the client's address); 0: the header is ignored.
    TRUSTED_PROXIES = env("TRUSTED_PROXIES", 0, int)
    PHOTO_DIR = env("PHOTO_DIR", str(ROOT / "var" / "photos"))
    # Where photo files live: empty (default) is the folder PHOTO_DIR; `s3://bucket[/prefix]` is
    # an S3-compatible bucket (then PHOTO_DIR only holds uploads while they are received).
    PHOTO_STORE = env("PHOTO_STORE", "")
    # The S3 endpoint (empty: AWS itself), region and keys (empty: boto3's own lookup chain).
    S3_ENDPOINT = env("S3_ENDPOINT", "")
    S3_REGION = env("S3_REGION", "us-east-1")
    S3_ACCESS_KEY = env("S3_ACCESS_KEY", "")
    S3_SECRET_KEY = env("S3_SECRET_KEY", "")
    # Lifetime of a presigned direct-upload URL (POST /visits/{id}/photos/upload-url).
    S3_UPLOAD_URL_TTL_S = env("S3_UPLOAD_URL_TTL_S", 900, int)
    # Signed audit-chain checkpoints (`fieldsales audit checkpoint`); keep them where a database
    # administrator cannot rewrite them (a write-once bucket mounted here, another host).
    CHECKPOINT_DIR = env("CHECKPOINT_DIR", str(ROOT / "var" / "checkpoints"))
    CORS_ORIGINS = env("CORS_ORIGINS", [], list)
    MAP_TILE_URL = env("MAP_TILE_URL", "")
    MAP_TILE_ATTRIBUTION = env("MAP_TILE_ATTRIBUTION", "")
    LOG_LEVEL = env("LOG_LEVEL", "INFO")
    # Webhooks to loopback, private or link-local addresses (fieldsales/webhooks/transport.py):
    # refused in production unless set; allowed in development and tests (local receivers).
    WEBHOOK_PRIVATE_TARGETS = env("WEBHOOK_PRIVATE_TARGETS", False, bool)
    # Periodic jobs' cron lines by name, over the defaults (fieldsales/jobs/schedule.py), as
    # JSON: '{"close_stale": "*/15 * * * *"}' (a 6th field counts seconds).
    JOB_SCHEDULES = env("JOB_SCHEDULES", {}, json.loads)
    DEMO_PASSWORD = env("DEMO_PASSWORD", "fieldsales-demo")

    # flask-smorest / OpenAPI
    API_TITLE = "fieldsales"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "/docs/assets/"


class DevelopmentConfig(Config):
    # Fixed development keys so tokens survive restarts; never used in production.
    SECRET_KEY = Config.SECRET_KEY or "dev-only-secret-key-change-me-0123456789abcdef"
    AUDIT_KEY = Config.AUDIT_KEY or "dev-only-audit-key-change-me-0123456789abcdef"
    WEBHOOK_PRIVATE_TARGETS = env("WEBHOOK_PRIVATE_TARGETS", True, bool)


class TestConfig(DevelopmentConfig):
    ENV_NAME = "test"
    DATABASE_URL = env("TEST_DATABASE_URL") or Config.DATABASE_URL
    # A folder per test database: a run never compares its chains with another run's checkpoint.
    CHECKPOINT_DIR = env("CHECKPOINT_DIR") or str(
        ROOT / "var" / "test-checkpoints" / (urlsplit(DATABASE_URL or "").path.strip("/") or "db"))
    # Cheap hashing keeps the suite fast; the algorithm (argon2id) is the same.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_KIB = 1024


class ProductionConfig(Config):
    ENV_NAME = "production"


CONFIGS = {"development": DevelopmentConfig, "test": TestConfig, "production": ProductionConfig}


def load(name=None):
    """The settings class for FIELDSALES_ENV (or `name`)."""
    name = name or os.environ.get("FIELDSALES_ENV", "development")
    if name not in CONFIGS:
        raise RuntimeError(f"FIELDSALES_ENV must be one of {sorted(CONFIGS)}, not {name!r}")
    return CONFIGS[name]


# FIELDSALES_DB_DRIVER → SQLAlchemy's driver name. psycopg2 is the default: it works behind
# PgBouncer in transaction mode. psycopg 3 prepares the statements a connection repeats (after 5
# runs) on the server, which a transaction-mode pooler only allows from PgBouncer 1.21 on
# (max_prepared_statements).
DRIVERS = {"psycopg2": "postgresql+psycopg2", "psycopg": "postgresql+psycopg"}


def sqlalchemy_url(url, driver=None):
    """The libpq URL (what psql takes) with the driver named for SQLAlchemy: `driver`, else
    FIELDSALES_DB_DRIVER, else psycopg2. An unknown driver is an error, not a fallback."""
    driver = driver or env("DB_DRIVER", "psycopg2")
    if driver not in DRIVERS:
        raise RuntimeError(f"FIELDSALES_DB_DRIVER must be one of {sorted(DRIVERS)}, "
                           f"not {driver!r}")
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return DRIVERS[driver] + "://" + url[len(prefix):]
    return url
