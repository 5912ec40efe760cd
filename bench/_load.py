"""Closed-loop load for the throughput benchmarks: N clients each send one request after the
other for a fixed time, over `http.client` (one HTTPConnection per client, reopened when the
server closes it; `requests` costs ~3x the CPU per request, and on this machine the client
shares two cores with gunicorn and PostgreSQL), or straight to the database for SQL floors.

Clients run as threads of this process, or spread over worker processes when
FIELDSALES_BENCH_CLIENT=processes (see README, Benchmarks: which leaves the server more CPU)."""
import http.client
import json
import multiprocessing
import os
import resource
import sys
import threading
import time
from statistics import median
from urllib.parse import urlencode, urlsplit

from bench.harness import percentile, result

MODE = os.environ.get("FIELDSALES_BENCH_CLIENT", "threads")
PROCESSES = 2  # one per core when clients run as processes
# Measured seconds per phase and round (FIELDSALES_BENCH_DURATION_S=2 to try the harness).
DURATION_S = float(os.environ.get("FIELDSALES_BENCH_DURATION_S", "8"))
WARMUP_S = 2.0
ROUNDS = 3


class Load:
    """What one closed-loop run measured: rate per second, latencies (ms) of the requests that
    started inside the measured window, and the client's own CPU per request (ms)."""

    def __init__(self, count, duration_s, latencies, cpu_s, errors):
        self.rate = count / duration_s
        self.latencies = latencies
        self.cpu_ms = cpu_s * 1000 / max(count, 1)
        self.errors = errors

    def p(self, q):
        return percentile(self.latencies, q)

    def summary(self):
        return (f"{self.rate:.0f}/s, p50 {self.p(50):.1f} ms, p99 {self.p(99):.1f} ms, "
                f"client CPU {self.cpu_ms:.2f} ms/req")


def _clients(work, indices, start, measure_from, stop):
    """Run `work(i)` (a function doing one request, False when it has nothing left to do; its
    `close`, if any, runs at the end) in one thread per index until `stop`; (latencies of the
    measured window, errors)."""
    latencies, errors, lock = [], [], threading.Lock()

    def client(i):
        do = work(i)
        mine = []
        while time.time() < start:
            time.sleep(0.001)
        while True:
            began = time.time()
            if began >= stop:
                break
            t = time.perf_counter()
            try:
                if do() is False:
                    break
            except Exception as exc:  # noqa: BLE001 (counted and reported by the caller)
                with lock:
                    errors.append(repr(exc)[:300])
                if len(errors) > 20:
                    break
                continue
            if began >= measure_from:
                mine.append((time.perf_counter() - t) * 1000)
        getattr(do, "close", lambda: None)()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in indices]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors


def _cpu_s(children=False):
    usage = resource.getrusage(resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def closed_loop(work, clients, duration_s=DURATION_S, warmup_s=WARMUP_S, mode=None):
    """`clients` clients call `work(i)()` in a loop for warmup_s + duration_s. `work(i)` builds
    client i's request function (its connection, its headers) in the thread that runs it."""
    mode = mode or MODE
    start = time.time() + 0.5
    measure_from, stop = start + warmup_s, start + warmup_s + duration_s
    if mode == "threads":
        cpu = _cpu_s()
        latencies, errors = _clients(work, range(clients), start, measure_from, stop)
        cpu = _cpu_s() - cpu
    elif mode == "processes":
        ctx = multiprocessing.get_context("fork")  # `work` is a closure: inherited, not pickled
        queue = ctx.Queue()
        start += 0.5  # forking takes a moment
        measure_from, stop = start + warmup_s, start + warmup_s + duration_s

        def child(indices):
            queue.put(_clients(work, indices, start, measure_from, stop))

        cpu = _cpu_s(children=True)
        procs = [ctx.Process(target=child, args=(list(range(clients))[k::PROCESSES],))
                 for k in range(PROCESSES)]
        for p in procs:
            p.start()
        parts = [queue.get() for _ in procs]
        for p in procs:
            p.join()
        cpu = _cpu_s(children=True) - cpu
        latencies = [ms for part in parts for ms in part[0]]
        errors = [e for part in parts for e in part[1]]
    else:
        raise ValueError(f"FIELDSALES_BENCH_CLIENT must be threads or processes, not {mode!r}")
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, e.g. {errors[:3]}")
    return Load(len(latencies), duration_s, latencies, cpu, errors)


def http_work(base, method, path, body=None, headers=None, expect=(200, 201)):
    """A `work` factory for closed_loop: client i sends `method path` with `body(i)` (bytes, a
    function of the client index, built per request) and `headers(i)`."""
    url = urlsplit(base)  # gunicorn's sync workers close after each answer: http.client reopens

    def work(i):
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        hdrs = {"Content-Type": "application/json", **(headers(i) if headers else {})}
        target = path(i) if callable(path) else path

        def do():
            conn.request(method, target, body=body(i) if body else None, headers=hdrs)
            response = conn.getresponse()
            data = response.read()
            if response.status not in expect:
                raise RuntimeError(f"{method} {target}: {response.status} {data[:200]!r}")
        do.close = conn.close
        return do

    return work


def alternate(phases, before=None, rounds=ROUNDS):
    """Run each of `phases` ({label: function returning a Load}) in turn, `rounds` times, so
    that all of them see the same background load; {label: [Load per round]}. `before(label)`
    runs ahead of each phase (untimed)."""
    out = {label: [] for label in phases}
    for n in range(rounds):
        started = time.time()
        for label, phase in phases.items():
            if before:
                before(label)
            out[label].append(phase())
        print(f"[bench]   round {n + 1}/{rounds} ({time.time() - started:.0f} s): "
              + "; ".join(f"{label} {loads[-1].summary()}" for label, loads in out.items()),
              file=sys.stderr, flush=True)
    return out


def throughput_row(name, unit, loads, min_ratio, what, extra=""):
    """The result row of a throughput benchmark: median rates of the rounds, ours ÷ HTTP floor,
    p50/p99 of the median round of each, the SQL floor beside."""
    def mid(loads):
        return sorted(loads, key=lambda x: x.rate)[len(loads) // 2]

    ours, http_floor, sql_floor = loads["ours"], loads["HTTP floor"], loads["SQL floor"]
    o, h, q = mid(ours), mid(http_floor), mid(sql_floor)
    rates = lambda loads: ", ".join(f"{x.rate:.0f}" for x in loads)  # noqa: E731
    row = result(
        name, median(x.rate for x in ours), median(x.rate for x in http_floor), unit,
        higher_is_better=True, min_ratio=min_ratio,
        notes=f"{what}, http.client {MODE}; ours p50 {o.p(50):.1f} / p99 {o.p(99):.1f} ms; "
              f"HTTP floor (bare Flask insert route, same gunicorn) p50 {h.p(50):.1f} / p99 "
              f"{h.p(99):.1f} ms; SQL floor (the use case's statements through psycopg2, no "
              f"HTTP) {median(x.rate for x in sql_floor):.0f}/s, p50 {q.p(50):.1f} / p99 "
              f"{q.p(99):.1f} ms; rounds: ours {rates(ours)}; HTTP floor {rates(http_floor)}; "
              f"SQL floor {rates(sql_floor)}; client CPU {o.cpu_ms:.2f} ms/req{extra}")
    row.update(p50_ms=round(o.p(50), 2), p99_ms=round(o.p(99), 2),
               http_floor_p50_ms=round(h.p(50), 2), http_floor_p99_ms=round(h.p(99), 2),
               sql_floor=round(median(x.rate for x in sql_floor), 1),
               sql_floor_p50_ms=round(q.p(50), 2), sql_floor_p99_ms=round(q.p(99), 2))
    return row


class Response:
    """What the latency benchmarks read of an answer (the names requests uses)."""

    def __init__(self, status, headers, content):
        self.status_code, self.headers, self.content = status, headers, content

    def json(self):
        return json.loads(self.content)

    def raise_for_status(self):
        if self.status_code >= 400:
            raise RuntimeError(f"HTTP {self.status_code}: {self.content[:200]!r}")


class Client:
    """Sequential GETs over one http.client connection (reopened when gunicorn closes it): the
    lighter client for latency benchmarks, in place of requests.Session."""

    def __init__(self, base):
        url = urlsplit(base)
        self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)

    def get(self, url, params=None, headers=None, timeout=None):
        """GET `url` (its path is used: the connection knows the server); `timeout` is the
        connection's (60 s), the argument is accepted for requests' signature."""
        target = urlsplit(url).path + (f"?{urlencode(params)}" if params else "")
        self.conn.request("GET", target, headers=headers or {})
        response = self.conn.getresponse()
        return Response(response.status, response.headers, response.read())

    def close(self):
        self.conn.close()
