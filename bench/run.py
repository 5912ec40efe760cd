"""`make bench [BENCH=name]`: run benchmarks, write bench/results.json, print a table.

Each benchmark measures one hot path through the real stack (gunicorn, HTTP, auth, PostGIS)
beside a raw baseline measured in the same run; ratio = ours/baseline for throughput and
baseline/ours for latency, so higher is better and 1.0 means no overhead.
"""
import importlib
import sys
import time
from pathlib import Path

from bench.harness import exit_on_sigterm, write_results

# Every module in bench/ with a run() is a benchmark (one file each, no shared list to edit).
BENCHMARKS = sorted(
    p.stem for p in Path(__file__).parent.glob("*.py")
    if p.stem not in ("__init__", "harness", "run") and not p.stem.startswith("_")
)


def main(argv):
    exit_on_sigterm()
    names = argv or BENCHMARKS
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    results = []
    for name in names:
        started = time.time()
        print(f"[bench] {name} …", file=sys.stderr, flush=True)
        module = importlib.import_module(f"bench.{name}")
        out = module.run()
        results.extend(out if isinstance(out, list) else [out])
        print(f"[bench] {name} done in {time.time() - started:.0f}s", file=sys.stderr, flush=True)
    write_results(results)
    print(f"\n{'name':<22} {'ours':>12} {'baseline':>12} {'unit':<10} {'ratio':>7}  notes")
    for r in results:
        print(f"{r['name']:<22} {r['ours']:>12} {r['baseline']:>12} {r['unit']:<10} "
              f"{r['ratio']:>7}  {r['notes']}")


if __name__ == "__main__":
    main(sys.argv[1:])
