"""Prometheus metrics: request counts and latency by endpoint, method and status.

Under gunicorn, PROMETHEUS_MULTIPROC_DIR (set by gunicorn.conf.py) makes every worker write
its samples to files that /metrics aggregates, so the numbers cover all workers.
"""
import os
import time

from flask import Response, g, request
from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram,
                               generate_latest, multiprocess)

REQUESTS = Counter("fieldsales_http_requests_total", "HTTP requests",
                   ["method", "endpoint", "status"])
LATENCY = Histogram("fieldsales_http_request_duration_seconds", "HTTP request latency",
                    ["method", "endpoint", "status"],
                    buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))


def init_app(app):
    @app.before_request
    def _start_timer():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        # The URL rule, not the path, keeps label cardinality bounded.
        endpoint = request.url_rule.rule if request.url_rule else "<unmatched>"
        labels = (request.method, endpoint, str(response.status_code))
        REQUESTS.labels(*labels).inc()
        started = g.get("metrics_started")
        if started is not None:
            LATENCY.labels(*labels).observe(time.perf_counter() - started)
        return response


def render():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
    from prometheus_client import REGISTRY

    return Response(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
