"""Render bench/results.json as README's benchmark table (markdown), to paste after a run.

    python -m bench.table [--notes] [--driver psycopg2] [path]

One line per benchmark and driver (psycopg2 first); throughput rows show p50/p99 and the SQL
floor beside the HTTP floor; --notes adds each row's notes column."""
import argparse
import json
from pathlib import Path

from bench.harness import RESULTS as DEFAULT

WHAT = {
    "check_in": "check-ins/s, 16 clients, full stack vs the bare Flask insert route (HTTP floor)",
    "claim_next": "claims/s, 16 reps, vs the bare Flask insert route (HTTP floor)",
    "customers_near": "p50 of \"within 5 km, nearest first\", page of 20, vs the best SQL",
    "map_tile_z12": "tile z12 (People's Square), one day, vs the same `ST_AsMVT` statement",
    "map_tile_z8": "tile z8 (Shanghai region), one day, vs the same `ST_AsMVT` statement",
    "map_geojson": "p50 of `/maps/visits`, central Shanghai, one day, vs the same SQL",
    "photo_upload": "p50 to accept a 12 MP JPEG end to end vs raw Pillow",
    "photo_upload_s3": "photo_upload p50 with the S3 store (SeaweedFS) vs the folder store",
    "attendance_csv": "one month of 500 reps vs the same SQL + csv.writer",
    "attendance_csv_rss": "peak RSS of the worker streaming three months / one month",
    "lead_import": "rows/s of the largest allowed import vs a raw COPY",
    "audit_verify": "verify every chain vs reading the entries",
}
DRIVER_ORDER = {"psycopg2": 0, "psycopg": 1}


def _num(x):
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}" if abs(x) < 1 else f"{x:.1f}"


def cells(r):
    unit = r["unit"]
    ours, base = f"{_num(r['ours'])} {unit}", f"{_num(r['baseline'])} {unit}"
    if "p50_ms" in r:
        ours += f" (p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms)"
        base = (f"HTTP floor {_num(r['baseline'])}/s (p50 {r['http_floor_p50_ms']:.0f} ms, "
                f"p99 {r['http_floor_p99_ms']:.0f} ms)"
                f"; SQL floor {_num(r['sql_floor'])}/s (p50 {r['sql_floor_p50_ms']:.0f} ms, "
                f"p99 {r['sql_floor_p99_ms']:.0f} ms)")
    met = {True: "met", False: "**missed**", None: ""}[r.get("met")]
    return ours, base, met


def render(rows, notes=False):
    head = ["benchmark", "driver", "ours", "baseline", "ratio", "target", "met"]
    head += ["notes"] if notes else []
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    rows = sorted(rows, key=lambda r: (r["name"], DRIVER_ORDER.get(r.get("driver"), 9)))
    for r in rows:
        ours, base, met = cells(r)
        what = WHAT.get(r["name"])
        line = [f"`{r['name']}`" + (f": {what}" if what else ""), r.get("driver") or "?", ours,
                base, f"{r['ratio']:.2f}", r.get("target") or "", met]
        if r.get("scale", 1) != 1:
            line[0] += f" (scale {r['scale']})"
        if notes:
            line.append(r["notes"].replace("|", "\\|"))
        out.append("| " + " | ".join(line) + " |")
    return "\n".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=DEFAULT, type=Path)
    parser.add_argument("--notes", action="store_true", help="add each row's notes")
    parser.add_argument("--driver", help="only the rows of this driver")
    args = parser.parse_args(argv)
    rows = json.loads(args.path.read_text())
    if args.driver:
        rows = [r for r in rows if r.get("driver") == args.driver]
    print(render(rows, notes=args.notes))


if __name__ == "__main__":
    main()
