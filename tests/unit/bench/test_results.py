"""bench/results.json rows: the issue's target and `met` in each row, one row per benchmark and
driver, and the README table rendered from them."""
import json

from bench import harness, table


def test_a_throughput_row_is_met_at_its_ratio_and_missed_below(monkeypatch):
    monkeypatch.setattr(harness, "DRIVER", "psycopg")
    met = harness.result("check_in", 40, 100, "req/s", True, "n", min_ratio=0.4)
    missed = harness.result("check_in", 39, 100, "req/s", True, "n", min_ratio=0.4)
    assert (met["met"], missed["met"]) == (True, False)
    assert met["target"] == "ratio >= 0.4"
    assert met["driver"] == "psycopg"


def test_a_latency_row_needs_both_its_ratio_and_its_ceiling():
    # 16 ms p50 against a 13 ms baseline: ratio 0.81 is enough, 16 ms is over the 15 ms ceiling
    row = harness.result("customers_near", 16, 13, "ms p50", False, "n", min_ratio=0.8,
                         max_ours=15)
    assert row["ratio"] == 0.812 and row["met"] is False
    assert row["target"] == "ratio >= 0.8 and ours <= 15 ms p50"
    fast = harness.result("customers_near", 14, 13, "ms p50", False, "n", min_ratio=0.8,
                          max_ours=15)
    assert fast["met"] is True


def test_a_row_without_a_target_has_no_verdict():
    row = harness.result("audit_verify", 2.0, 1.0, "s", False, "n")
    assert row["target"] is None and row["met"] is None


def test_results_are_kept_per_driver(tmp_path):
    path = tmp_path / "results.json"
    old = {"name": "check_in", "driver": "psycopg2", "ours": 1, "baseline": 2, "ratio": 0.5}
    other = {"name": "map_tile_z8", "driver": "psycopg2", "ours": 1, "baseline": 1, "ratio": 1}
    path.write_text(json.dumps([old, other]))
    new = {**old, "driver": "psycopg", "ours": 3}
    again = {**old, "ours": 4}
    harness.write_results([new], path=path)
    harness.write_results([again], path=path)
    rows = json.loads(path.read_text())
    assert sorted((r["name"], r["driver"], r["ours"]) for r in rows) == [
        ("check_in", "psycopg", 3), ("check_in", "psycopg2", 4), ("map_tile_z8", "psycopg2", 1)]


def test_a_row_from_before_drivers_were_recorded_gives_way_to_a_new_one(tmp_path):
    path = tmp_path / "results.json"
    legacy = [{"name": "check_in", "ours": 1}, {"name": "photo_upload", "ours": 2}]
    path.write_text(json.dumps(legacy))
    harness.write_results([{"name": "check_in", "driver": "psycopg", "ours": 3}], path=path)
    rows = json.loads(path.read_text())
    assert sorted((r["name"], r.get("driver"), r["ours"]) for r in rows) == [
        ("check_in", "psycopg", 3), ("photo_upload", None, 2)]


def test_the_table_shows_floors_percentiles_and_verdicts_default_driver_first():
    rows = [
        {"name": "check_in", "driver": "psycopg", "ours": 80.0, "baseline": 400.0,
         "unit": "req/s", "ratio": 0.2, "target": "ratio >= 0.4", "met": False, "notes": "a|b",
         "p50_ms": 190.0, "p99_ms": 260.0, "http_floor_p50_ms": 38.0,
         "http_floor_p99_ms": 55.0, "sql_floor": 480.0, "sql_floor_p50_ms": 31.0,
         "sql_floor_p99_ms": 70.0, "scale": 1},
        {"name": "check_in", "driver": "psycopg2", "ours": 200.0, "baseline": 400.0,
         "unit": "req/s", "ratio": 0.5, "target": "ratio >= 0.4", "met": True, "notes": "n",
         "p50_ms": 80.0, "p99_ms": 120.0, "http_floor_p50_ms": 38.0, "http_floor_p99_ms": 55.0,
         "sql_floor": 480.0, "sql_floor_p50_ms": 31.0, "sql_floor_p99_ms": 70.0, "scale": 1},
    ]
    lines = table.render(rows, notes=True).splitlines()
    assert lines[0].split(" | ")[1:7] == ["driver", "ours", "baseline", "ratio", "target", "met"]
    first, second = lines[2], lines[3]
    assert "| psycopg2 |" in first and "| psycopg |" in second
    assert "200 req/s (p50 80 ms, p99 120 ms)" in first
    assert ("HTTP floor 400/s (p50 38 ms, p99 55 ms); SQL floor 480/s (p50 31 ms, p99 70 ms)"
            in first)
    assert first.rstrip(" |").endswith("| n") and "| met |" in first
    assert "**missed**" in second and "a\\|b" in second
