"""Locust listener shared by the load files: at the end, one JSON line with what the issue
asks for — throughput, p50/p95/p99, errors — per request name and in all."""

import json

from locust import events

SUBMISSIONS = ("POST /api/v1/public/appeals", "POST /appeal/new/", "POST /tickets/submit/")


@events.quitting.add_listener
def _summary(environment, **kwargs):
    """One JSON line with what the issue asks for: throughput, p50/p95/p99, errors."""
    stats = environment.stats
    seconds = max(1e-9, stats.total.last_request_timestamp - stats.total.start_time)
    rows = {}
    for (name, method), entry in stats.entries.items():
        rows[f"{method} {name}" if not name.startswith(method) else name] = {
            "count": entry.num_requests, "failures": entry.num_failures,
            "p50_ms": entry.get_response_time_percentile(0.5), "p95_ms": entry.get_response_time_percentile(0.95),
            "p99_ms": entry.get_response_time_percentile(0.99), "max_ms": round(entry.max_response_time or 0),
        }
    submitted = sum(entry.num_requests - entry.num_failures for (name, _), entry in stats.entries.items() if name in SUBMISSIONS)
    summary = {
        "seconds": round(seconds, 1), "submissions_ok": submitted, "submissions_per_s": round(submitted / seconds, 1),
        "requests_per_s": round(stats.total.num_requests / seconds, 1), "errors": stats.total.num_failures,
        "p50_ms": stats.total.get_response_time_percentile(0.5), "p95_ms": stats.total.get_response_time_percentile(0.95),
        "p99_ms": stats.total.get_response_time_percentile(0.99), "requests": rows,
    }
    print("LOAD_SUMMARY " + json.dumps(summary, ensure_ascii=False))
    if stats.total.fail_ratio > 0:
        environment.process_exit_code = 1
