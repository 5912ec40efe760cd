"""`make bench [BENCH=name] [DRIVER=psycopg2|psycopg|both]`: run benchmarks, write
bench/results.json (one row per benchmark and driver), print a table.

Each benchmark measures one hot path through the real stack (gunicorn, HTTP, auth, PostGIS)
beside a baseline measured in the same run; ratio = ours/baseline for throughput and
baseline/ours for latency, so higher is better and 1.0 means no overhead. The app runs on the
driver named by FIELDSALES_DB_DRIVER (scripts/bench.sh runs this once per driver); baselines
always use psycopg2.

    python -m bench.run [--hot] [name ...]     --hot: only the hot paths (HOT)
"""
import importlib
import sys
import time
from pathlib import Path

from bench.harness import DRIVER, SCALE, exit_on_sigterm, write_results

# Every module in bench/ with a run() is a benchmark (one file each, no shared list to edit).
BENCHMARKS = sorted(
    p.stem for p in Path(__file__).parent.glob("*.py")
    if p.stem not in ("__init__", "harness", "run", "table") and not p.stem.startswith("_")
)
# The hot paths of issue 12, also measured on psycopg 3 by `make bench`.
HOT = ["check_in", "claim_next", "customers_near", "map_tile", "photo_upload"]


def main(argv):
    exit_on_sigterm()
    hot = "--hot" in argv
    names = [a for a in argv if a != "--hot"] or (HOT if hot else BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    results = []
    for k, name in enumerate(names, 1):
        started = time.time()
        print(f"[bench] {name} on {DRIVER} ({k}/{len(names)}, scale {SCALE}) …", file=sys.stderr,
              flush=True)
        module = importlib.import_module(f"bench.{name}")
        out = module.run()
        out = out if isinstance(out, list) else [out]
        results.extend(out)
        write_results(out)  # kept as it goes: a later failure does not lose this one
        print(f"[bench] {name} done in {time.time() - started:.0f}s: "
              + "; ".join(f"{r['name']} ratio {r['ratio']} ({'met' if r['met'] else 'missed'})"
                          if r.get("met") is not None else f"{r['name']} ratio {r['ratio']}"
                          for r in out), file=sys.stderr, flush=True)
    print(f"\n{'name':<22} {'driver':<9} {'ours':>12} {'baseline':>12} {'unit':<10} "
          f"{'ratio':>7} {'met':<5} notes")
    for r in results:
        print(f"{r['name']:<22} {r['driver']:<9} {r['ours']:>12} {r['baseline']:>12} "
              f"{r['unit']:<10} {r['ratio']:>7} {str(r.get('met')):<5} {r['notes']}")


if __name__ == "__main__":
    main(sys.argv[1:])
