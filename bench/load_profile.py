"""Where one public submission's time goes, in-process (no HTTP server, no locust): N appeals
through the JSON API and N through the H5 form with Django's test client against the
configured database, timed per request and profiled. Run inside the project's settings,
against a scratch database (bench/load_run.sh prepares one):

    minsheng shell -c "exec(open('bench/load_profile.py').read())"

Env: PROFILE_N (default 200), PROFILE_STATS=1 for the cProfile listing, MINSHENG_ROUTE_IN_REQUEST
(default as configured).
"""

import cProfile
import io
import json
import os
import pstats
import random
import re
import statistics
import time

from django.conf import settings
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext

N = int(os.environ.get("PROFILE_N", 200))
TOKEN = re.compile(r'name="token" value="([^"]+)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


def api_submit(client):
    body = {"text": f"计划路菜市场门口垃圾三天没人清运（{random.randint(1, 10**9)}）", "address": "计划路菜市场",
            "phone": f"139{random.randint(10000000, 99999999)}"}
    response = client.post("/api/v1/public/appeals", json.dumps(body, ensure_ascii=False), content_type="application/json")
    assert response.status_code == 201, response.content[:300]


def form_submit(client):
    page = client.get("/appeal/new/").content.decode()
    data = {"csrfmiddlewaretoken": CSRF.search(page).group(1), "token": TOKEN.search(page).group(1),
            "text": f"碧沙岗公园北门路灯坏了好几天（{random.randint(1, 10**9)}）", "address": "碧沙岗公园北门",
            "reporter_name": "测试", "reporter_phone": f"139{random.randint(10000000, 99999999)}"}
    response = client.post("/appeal/new/", data)
    assert response.status_code == 302, response.status_code


def measure(label, fn):
    client = Client(enforce_csrf_checks=True)
    fn(client)  # warm
    times, queries = [], []
    profile = cProfile.Profile() if os.environ.get("PROFILE_STATS") else None
    cpu_started = time.process_time()
    for _ in range(N):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            if profile:
                profile.enable()
            fn(client)
            if profile:
                profile.disable()
            times.append((time.perf_counter() - started) * 1000)
        queries.append(len(captured))
    cpu_ms = (time.process_time() - cpu_started) * 1000 / N  # this process only (not PostgreSQL's); includes the profiler
    times.sort()
    print(json.dumps({
        "path": label, "n": N, "route_in_request": settings.MINSHENG_ROUTE_IN_REQUEST,
        "p50_ms": round(statistics.median(times), 1), "p95_ms": round(times[int(0.95 * N) - 1], 1),
        "mean_ms": round(statistics.fmean(times), 1), "python_cpu_ms": round(cpu_ms, 1), "queries_per_submission": round(statistics.fmean(queries), 1),
    }))
    if not profile:
        return
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(r"minsheng|django/(db|contrib/sessions|middleware|template)", 25)
    print(out.getvalue()[:6000])


reset_queries()
measure("POST /api/v1/public/appeals", api_submit)
measure("GET+POST /appeal/new/", form_submit)
