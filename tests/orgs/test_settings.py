import pytest


def test_defaults(api, world):
    r = api.as_(world.rep_east).get("/api/v1/org/settings")
    assert r.status_code == 200
    assert r.json == {"timezone": "Asia/Shanghai", "workdays": [1, 2, 3, 4, 5],
                      "geofence_radius_m": 200, "low_accuracy_m": 100, "max_speed_kmh": 200,
                      "min_visit_minutes": 2, "photo_max_mb": 15,
                      "visit_cadence_days": {"A": 7, "B": 14, "C": 30},
                      "work_hours": {"start": "09:00", "end": "18:00", "grace_minutes": 10},
                      "approval_levels": {"outing": 1, "attendance_correction": 1,
                                          "target_change": 2}}


def test_approval_levels_change_per_kind(api, world):
    r = api.as_(world.admin).patch("/api/v1/org/settings",
                                   json={"approval_levels": {"outing": 3}})
    assert r.status_code == 200, r.json
    assert r.json["approval_levels"] == {"outing": 3, "attendance_correction": 1,
                                         "target_change": 2}


def test_admin_updates_settings(api, world):
    r = api.as_(world.admin).patch("/api/v1/org/settings",
                                   json={"geofence_radius_m": 350, "workdays": [1, 2, 3, 4, 5, 6]})
    assert r.status_code == 200 and r.json["geofence_radius_m"] == 350
    other = api.as_(world.admin_b).get("/api/v1/org/settings").json
    assert other["geofence_radius_m"] == 200  # another org is untouched


@pytest.mark.parametrize("body", [
    {"workdays": [0]}, {"workdays": [1, 1]}, {"workdays": []}, {"geofence_radius_m": -5},
    {"timezone": "Nowhere/City"}, {"photo_max_mb": 1000}, {"max_speed_kmh": "fast"},
    {"unknown": 1}, {"approval_levels": {"vacation": 1}}, {"approval_levels": {"outing": 0}},
    {"approval_levels": {"outing": 11}}, {"approval_levels": {"outing": "two"}},
    {"approval_levels": []}])
def test_invalid_settings_are_422(api, world, body):
    assert api.as_(world.admin).patch("/api/v1/org/settings", json=body).status_code == 422


@pytest.mark.parametrize("who", ["mgr_east", "hr", "rep_east"])
def test_only_admin_changes_settings(api, world, who):
    r = api.as_(getattr(world, who)).patch("/api/v1/org/settings", json={"min_visit_minutes": 5})
    assert r.status_code == 403
