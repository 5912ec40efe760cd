"""The pure flag rules (visits/flags.py): every flag of the vocabulary, and the risk score."""
from datetime import UTC, datetime, timedelta

import pytest

from fieldsales.visits import flags as rules

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
TH = rules.Thresholds(low_accuracy_m=100, max_speed_kmh=200, min_visit_minutes=2)


def flags_for(**overrides):
    args = dict(device_time=T0, received_at=T0 + timedelta(seconds=3), accuracy_m=10,
                mock_location=False, within_geofence=True, has_customer_location=True,
                previous=None, thresholds=TH)
    args.update(overrides)
    return rules.event_flags(**args)


def test_a_clean_event_has_no_flags_and_no_risk():
    assert flags_for() == []
    assert rules.risk_score([]) == 0


@pytest.mark.parametrize("device_offset, expected_at", [
    (timedelta(minutes=-40), "device"), (timedelta(0), "device"),
    (timedelta(minutes=4, seconds=59), "device"), (timedelta(minutes=5), "device"),
    (timedelta(minutes=5, seconds=1), "received"), (timedelta(hours=3), "received")])
def test_event_time_trusts_the_phone_unless_it_runs_more_than_5_min_ahead(device_offset,
                                                                         expected_at):
    device = T0 + device_offset
    assert rules.event_time(device, T0) == (device if expected_at == "device" else T0)


def test_geofence_flags():
    assert flags_for(within_geofence=False) == ["outside_geofence"]
    assert flags_for(within_geofence=False, check_out=True) == ["check_out_outside_geofence"]
    assert flags_for(has_customer_location=False, within_geofence=None) == [
        "no_customer_location"]
    # The check-out does not repeat no_customer_location (the check-in already says it).
    assert flags_for(has_customer_location=False, within_geofence=None, check_out=True) == []


@pytest.mark.parametrize("accuracy, flagged", [(None, True), (100, False), (100.01, True),
                                               (5, False), (250, True)])
def test_low_accuracy_missing_or_above_the_org_threshold(accuracy, flagged):
    assert ("low_accuracy" in flags_for(accuracy_m=accuracy)) is flagged


def test_mock_location():
    assert flags_for(mock_location=True) == ["mock_location"]


def test_device_time_ahead_and_late_sync():
    assert flags_for(device_time=T0 + timedelta(minutes=6), received_at=T0) == [
        "device_time_ahead"]
    assert flags_for(device_time=T0 + timedelta(minutes=5), received_at=T0) == []
    assert flags_for(device_time=T0 - timedelta(minutes=31), received_at=T0) == ["late_sync"]
    assert flags_for(device_time=T0 - timedelta(minutes=30), received_at=T0) == []


@pytest.mark.parametrize("distance_m, beyond, seconds, flagged", [
    (50_000, True, 600, True),     # 50 km in 10 min = 300 km/h
    (50_000, True, 1200, False),   # 50 km in 20 min = 150 km/h
    (900, False, 1, False),        # fast but within 1 km: GPS jitter, not travel
    (1500, True, 0, True),         # same instant, 1.5 km apart
    (2_000, True, 35, True),       # 206 km/h
    (2_000, True, 37, False),      # 195 km/h
])
def test_impossible_speed(distance_m, beyond, seconds, flagged):
    previous = rules.Previous(at=T0 - timedelta(seconds=seconds), distance_m=distance_m,
                              beyond_1km=beyond)
    got = flags_for(previous=previous, device_time=T0, received_at=T0)
    assert ("impossible_speed" in got) is flagged


def test_short_visit():
    assert rules.is_short(timedelta(minutes=1, seconds=59), TH)
    assert not rules.is_short(timedelta(minutes=2), TH)


def test_photo_flags():
    start, end = T0, T0 + timedelta(minutes=30)
    base = dict(reused=False, taken_at=T0 + timedelta(minutes=5), exif_distance_beyond_500m=False,
                has_gps=True, source="camera", visit_start=start, visit_end=end)
    assert rules.photo_flags(**base) == []
    assert rules.photo_flags(**{**base, "reused": True}) == ["photo_reused"]
    assert rules.photo_flags(**{**base, "exif_distance_beyond_500m": True}) == [
        "photo_location_mismatch"]
    assert rules.photo_flags(**{**base, "taken_at": start - timedelta(hours=2, seconds=1)}) == [
        "photo_time_mismatch"]
    assert rules.photo_flags(**{**base, "taken_at": end + timedelta(hours=2)}) == []
    assert rules.photo_flags(**{**base, "taken_at": end + timedelta(hours=2, minutes=1)}) == [
        "photo_time_mismatch"]
    assert rules.photo_flags(**{**base, "taken_at": None, "has_gps": False}) == [
        "photo_no_metadata"]
    assert rules.photo_flags(**{**base, "taken_at": None}) == []
    assert rules.photo_flags(**{**base, "source": "gallery"}) == ["photo_from_gallery"]


def test_merge_is_a_union_in_vocabulary_order():
    assert rules.merge(["late_sync", "mock_location"], ["photo_reused", "late_sync"]) == [
        "mock_location", "late_sync", "photo_reused"]
    with pytest.raises(ValueError):
        rules.merge(["made_up"])


def test_risk_score_grows_with_each_flag_and_caps_at_100():
    flags = []
    last = 0
    for flag in rules.ALL_FLAGS:
        flags.append(flag)
        score = rules.risk_score(flags)
        assert score > last or score == 100
        last = score
    assert rules.risk_score(rules.ALL_FLAGS) == 100
    assert rules.risk_score(["late_sync", "late_sync"]) == rules.risk_score(["late_sync"])


def test_deception_weighs_most():
    heavy = {"mock_location", "impossible_speed", "photo_reused"}
    lightest_heavy = min(rules.RISK_WEIGHTS[f] for f in heavy)
    assert all(rules.RISK_WEIGHTS[f] < lightest_heavy for f in rules.ALL_FLAGS if f not in heavy)
    assert all(rules.RISK_WEIGHTS[f] > 0 for f in rules.ALL_FLAGS)


def test_weights_are_documented():
    text = rules.describe_weights()
    for flag, weight in rules.RISK_WEIGHTS.items():
        assert f"| `{flag}` | {weight} | {rules.MEANINGS[flag]} |" in text
