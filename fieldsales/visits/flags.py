"""The rules that turn a visit's evidence into flags and a risk score (pure: no database).

Each flag is a reason a manager can read (API.md "Flags"); the numbers it compares (distances,
geofence decisions) are computed in PostGIS by the service and passed in here.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

# The closed vocabulary, in the order flags are listed on a visit.
VISIT_FLAGS = (
    "outside_geofence", "check_out_outside_geofence", "no_customer_location", "low_accuracy",
    "mock_location", "impossible_speed", "device_time_ahead", "late_sync", "missing_check_out",
    "short_visit",
)
PHOTO_FLAGS = (
    "photo_reused", "photo_location_mismatch", "photo_time_mismatch", "photo_no_metadata",
    "photo_from_gallery",
)
ALL_FLAGS = VISIT_FLAGS + PHOTO_FLAGS

# Risk weights (sum over the visit's flags, capped at 100). Signs of deliberate deception weigh
# most; signs of a weak signal or a slow network weigh least.
RISK_WEIGHTS = {
    "mock_location": 40,
    "impossible_speed": 40,
    "photo_reused": 40,
    "outside_geofence": 25,
    "photo_location_mismatch": 20,
    "device_time_ahead": 15,
    "check_out_outside_geofence": 15,
    "photo_time_mismatch": 15,
    "missing_check_out": 15,
    "photo_from_gallery": 10,
    "short_visit": 10,
    "low_accuracy": 10,
    "no_customer_location": 5,
    "late_sync": 5,
    "photo_no_metadata": 5,
}
if set(RISK_WEIGHTS) != set(ALL_FLAGS):  # a new flag must get a weight
    raise RuntimeError("RISK_WEIGHTS and ALL_FLAGS disagree")

# What each flag tells a manager (OpenAPI description and README).
MEANINGS = {
    "outside_geofence": "checked in farther from the customer than its radius (the customer's "
                        "geofence_radius_m, else the org's)",
    "check_out_outside_geofence": "checked out farther from the customer than its radius",
    "no_customer_location": "the customer card has no location, so the distance is unknown",
    "low_accuracy": "the phone gave no accuracy, or one worse than the org's low_accuracy_m",
    "mock_location": "the phone reported a mock (fake) location provider",
    "impossible_speed": "more than 1 km from the rep's previous check-in/out at a speed above "
                        "the org's max_speed_kmh",
    "device_time_ahead": "the phone's clock was more than 5 minutes ahead of the server's",
    "late_sync": "the event reached the server more than 30 minutes after it happened "
                 "(offline queue)",
    "missing_check_out": "closed automatically (next check-in or end of day), not by the rep",
    "short_visit": "checked out after less than the org's min_visit_minutes",
    "photo_reused": "a photo (same bytes or a near-identical picture) is already on another "
                    "visit of the org",
    "photo_location_mismatch": "a photo's EXIF GPS is more than 500 m from the check-in point",
    "photo_time_mismatch": "a photo's EXIF capture time is more than 2 h outside the visit",
    "photo_no_metadata": "a photo has neither EXIF capture time nor GPS",
    "photo_from_gallery": "a photo was picked from the gallery rather than taken with the camera",
}
if set(MEANINGS) != set(ALL_FLAGS):  # a new flag must be explained to managers
    raise RuntimeError("MEANINGS and ALL_FLAGS disagree")

DEVICE_AHEAD_TOLERANCE = timedelta(minutes=5)
LATE_SYNC_AFTER = timedelta(minutes=30)
SPEED_MIN_DISTANCE_M = 1000.0
PHOTO_MAX_DISTANCE_M = 500.0
PHOTO_TIME_TOLERANCE = timedelta(hours=2)
UPLOAD_WINDOW_AFTER_CHECK_OUT = timedelta(hours=2)


@dataclass(frozen=True)
class Thresholds:
    """The org settings the rules read."""

    low_accuracy_m: float
    max_speed_kmh: float
    min_visit_minutes: float


@dataclass(frozen=True)
class Previous:
    """The rep's latest earlier check-in or check-out, measured from this event."""

    at: datetime
    distance_m: float
    beyond_1km: bool  # ST_DWithin(…, 1000) was false


def event_time(device_time: datetime, received_at: datetime) -> datetime:
    """The time an event is filed under: the phone's clock unless it runs > 5 min ahead."""
    return received_at if device_time - received_at > DEVICE_AHEAD_TOLERANCE else device_time


def implied_speed_kmh(distance_m: float, seconds: float) -> float:
    if seconds <= 0:
        return float("inf")
    return distance_m / seconds * 3.6


def event_flags(*, device_time, received_at, accuracy_m, mock_location, within_geofence,
                has_customer_location, previous: Previous | None, thresholds: Thresholds,
                check_out=False) -> list[str]:
    """Flags raised by one check-in or check-out."""
    flags = []
    if not has_customer_location:
        if not check_out:
            flags.append("no_customer_location")
    elif within_geofence is False:
        flags.append("check_out_outside_geofence" if check_out else "outside_geofence")
    if accuracy_m is None or accuracy_m > thresholds.low_accuracy_m:
        flags.append("low_accuracy")
    if mock_location:
        flags.append("mock_location")
    if previous is not None and previous.beyond_1km:
        at = event_time(device_time, received_at)
        seconds = (at - previous.at).total_seconds()
        if implied_speed_kmh(previous.distance_m, seconds) > thresholds.max_speed_kmh:
            flags.append("impossible_speed")
    if device_time - received_at > DEVICE_AHEAD_TOLERANCE:
        flags.append("device_time_ahead")
    if received_at - device_time > LATE_SYNC_AFTER:
        flags.append("late_sync")
    return flags


def is_short(duration: timedelta, thresholds: Thresholds) -> bool:
    return duration < timedelta(minutes=thresholds.min_visit_minutes)


def photo_flags(*, reused, taken_at, exif_distance_beyond_500m, has_gps, source,
                visit_start, visit_end) -> list[str]:
    """Flags raised by one photo. `visit_end` is the check-out time, or now while open."""
    flags = []
    if reused:
        flags.append("photo_reused")
    if has_gps and exif_distance_beyond_500m:
        flags.append("photo_location_mismatch")
    if taken_at is not None and (taken_at < visit_start - PHOTO_TIME_TOLERANCE
                                 or taken_at > visit_end + PHOTO_TIME_TOLERANCE):
        flags.append("photo_time_mismatch")
    if taken_at is None and not has_gps:
        flags.append("photo_no_metadata")
    if source == "gallery":
        flags.append("photo_from_gallery")
    return flags


def merge(*flag_lists) -> list[str]:
    """Union of flag lists, in vocabulary order (stable, so stored flags compare equal)."""
    present = {f for flags in flag_lists for f in flags}
    unknown = present - set(ALL_FLAGS)
    if unknown:
        raise ValueError(f"unknown flags: {sorted(unknown)}")
    return [f for f in ALL_FLAGS if f in present]


def risk_score(flags) -> int:
    """0 for no flags; the sum of the flags' weights, capped at 100."""
    return min(100, sum(RISK_WEIGHTS[f] for f in set(flags)))


def describe_weights() -> str:
    """The weights as Markdown, for the OpenAPI description and the README."""
    rows = "\n".join(f"| `{flag}` | {weight} | {MEANINGS[flag]} |" for flag, weight in
                     sorted(RISK_WEIGHTS.items(), key=lambda kv: (-kv[1], kv[0])))
    return (
        "### Visit flags and risk score\n\n"
        "`risk_score` (0–100) is the sum of the weights of the visit's flags, capped at 100; "
        "0 means no flags. Photo flags are copied up to the visit.\n\n"
        "| flag | weight | meaning |\n|---|---|---|\n" + rows
    )
