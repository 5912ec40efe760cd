"""Pure lead-pool rules: phone normalisation, masking, the recycle clock, local days, what a
claim attempt means. No database, no Flask: unit-tested in tests/unit/leads/test_rules.py.

The race-prone limits themselves (holding, daily claims) are enforced by the database (see
migrations/versions/0003_leads.py and claims.py); the functions here only decide what a single
row means and how to explain a refusal.
"""
import contextlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

# --- phones and e-mail ------------------------------------------------------------------------

# Hand-written rather than `phonenumbers` (libphonenumber): the contract defines duplicates by
# this exact normalisation (strip separators and a leading +86/0086), and libphonenumber would
# both drop the trunk 0 of landlines and reject the short/extension numbers CRM exports are
# full of, so rows would count as duplicates (or errors) differently from what API.md says.
_SEPARATORS = re.compile(r"[\s\-().·/]")
_PHONE_MIN_DIGITS, _PHONE_MAX_DIGITS = 3, 20


def normalize_phone(raw: str | None) -> str | None:
    """The duplicate-detection key of a phone number: digits only, without the Chinese country
    code (+86, 0086, or a bare 86 in front of an 11-digit mobile number). Other countries keep a
    leading '+'. Empty → None; anything that is not a phone number → ValueError."""
    if raw is None:
        return None
    text = unicodedata.normalize("NFKC", raw).strip()  # full-width digits → ASCII
    if not text:
        return None
    text = _SEPARATORS.sub("", text)
    plus = text.startswith("+")
    if plus:
        text = text[1:]
    elif text.startswith("00"):
        plus, text = True, text[2:]
    if not text.isdigit():
        raise ValueError("A phone number may contain only digits, spaces, dashes, dots, "
                         "brackets and a leading +.")
    if plus and text.startswith("86"):
        text, plus = text[2:], False
    elif not plus and len(text) == 13 and text.startswith("861"):
        # 86 + an 11-digit mobile number (1xx xxxx xxxx) typed without the +.
        text = text[2:]
    if not _PHONE_MIN_DIGITS <= len(text) <= _PHONE_MAX_DIGITS:
        raise ValueError(f"A phone number has {_PHONE_MIN_DIGITS} to {_PHONE_MAX_DIGITS} "
                         "digits.")
    return ("+" if plus else "") + text


def mask_phone(phone: str | None) -> str | None:
    """`13812345678` → `138****5678`: enough to recognise a number, not to dial it."""
    if not phone:
        return phone
    with contextlib.suppress(ValueError):
        phone = normalize_phone(phone) or phone  # `+86 138…` masks as `138****…`
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) >= 7:
        return f"{digits[:2]}****{digits[-2:]}"
    return "****" + digits[-1:] if digits else "****"


def mask_email(email: str | None) -> str | None:
    """`alice@example.com` → `a***@example.com`."""
    if not email:
        return email
    local, sep, domain = email.partition("@")
    if not sep:
        return "***"
    return f"{local[:1]}***@{domain}"


# --- the recycle clock --------------------------------------------------------------------------

def recycle_at(*, status: str, claimed_at: datetime | None, last_follow_up_at: datetime | None,
               recycle_after_days: int) -> datetime | None:
    """When a claimed lead goes back to the pool: its last follow-up or its claim, whichever
    is later, plus the pool's recycle_after_days. None unless the lead is claimed."""
    if status != "claimed" or claimed_at is None:
        return None
    started = max(claimed_at, last_follow_up_at) if last_follow_up_at else claimed_at
    return started + timedelta(days=recycle_after_days)


def recycle_warning(*, recycle_at: datetime | None, warn_before_days: int,
                    now: datetime) -> bool:
    """True within warn_before_days of recycling (and once overdue, until the job runs)."""
    if recycle_at is None:
        return False
    return now >= recycle_at - timedelta(days=warn_before_days)


def is_silent(*, pooled_at: datetime | None, silent_after_days: int, now: datetime) -> bool:
    """A pooled lead nobody has claimed for silent_after_days since it entered the pool."""
    return pooled_at is not None and now - pooled_at >= timedelta(days=silent_after_days)


def recycle_reason(*, recycle_after_days: int, last_activity: datetime) -> str:
    return (f"No follow-up for {recycle_after_days} day(s) "
            f"(last activity {last_activity.astimezone(UTC).isoformat()}).")


def cooldown_until(*, now: datetime, cooldown_days: int) -> datetime | None:
    """Until when the previous holder may not take the lead back (None: no cooldown)."""
    if cooldown_days <= 0:
        return None
    return now + timedelta(days=cooldown_days)


def local_day(now: datetime, timezone: str) -> date:
    """The user's local calendar date at `now` (daily limits count per local day)."""
    return now.astimezone(ZoneInfo(timezone)).date()


# --- claims -----------------------------------------------------------------------------------

OPEN, MINE, TAKEN, CLOSED = "open", "mine", "taken", "closed"


def claim_state(*, status: str, owner_id, caller_id) -> str:
    """What a claim of this lead by the caller means, before any limit is checked."""
    if status in ("converted", "dead"):
        return CLOSED
    if status == "claimed":
        return MINE if owner_id == caller_id else TAKEN
    return OPEN


@dataclass(frozen=True)
class Quota:
    holding: int
    holding_limit: int
    claims_today: int
    daily_claim_limit: int


def refusal(quota: Quota) -> str | None:
    """Which limit stops one more claim (the database has the final word; this explains it)."""
    if quota.holding >= quota.holding_limit:
        return "holding_limit_reached"
    if quota.claims_today >= quota.daily_claim_limit:
        return "daily_claim_limit_reached"
    return None


# --- pool settings ---------------------------------------------------------------------------

STRATEGIES = ("claim", "round_robin", "load_balance", "tag_match")

POOL_DEFAULTS = {"holding_limit": 20, "daily_claim_limit": 10, "recycle_after_days": 7,
                 "warn_before_days": 1, "cooldown_days": 3, "silent_after_days": 14}


def pool_settings_problem(settings: dict) -> tuple[str, str] | None:
    """(field, message) when the settings contradict each other, else None."""
    if settings["warn_before_days"] >= settings["recycle_after_days"]:
        return ("warn_before_days", "Must be less than recycle_after_days.")
    return None
