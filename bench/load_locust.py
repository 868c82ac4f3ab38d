"""Load test (locust): residents filing appeals — through the public JSON API (one request per
appeal) and through the H5 form (the form page with its one-time token and CSRF cookie, then
the POST) — while staff read their queues and open cases. Intelligent dispatch runs in the
worker after each answer (the `intake.route` outbox message). Run by bench/load_run.sh
against `minsheng serve` on PostgreSQL; figures in docs/reliability.md.

    locust -f bench/load_locust.py --headless -u 60 -r 20 -t 600s --host http://127.0.0.1:8077

Environment: LOAD_API_WEIGHT, LOAD_FORM_WEIGHT, LOAD_STAFF_WEIGHT (user mix), LOAD_PACING
(seconds between one resident's appeals; 0 = as fast as answered), LOAD_STAFF_PASSWORD.
"""

from __future__ import annotations

import json
import os
import random
import re

from locust import FastHttpUser, between, constant_pacing, events, task

TOKEN = re.compile(r'name="token" value="([^"]+)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CASE_LINK = re.compile(r'href="/desk/cases/(\d+)/"')

PLACES = ["计划路菜市场", "碧沙岗公园北门", "伊河路26号院", "建设路与伏牛路交叉口", "秦岭路中段", "桐柏路小学门口", "陇海路高架桥下"]
PROBLEMS = [
    "门口垃圾三天没人清运，气味很大，请尽快处理",
    "路灯坏了好几天，晚上很黑不安全",
    "下水道堵塞，污水漫到路面上",
    "小区停水两天了，没有任何通知",
    "有人占道经营，早上堵得走不了",
    "楼下饭店油烟太大，窗户都不敢开",
    "人行道井盖缺失，老人孩子容易掉进去",
]
PASSWORD = os.environ.get("LOAD_STAFF_PASSWORD", "load-test-pass-1")
PACING = float(os.environ.get("LOAD_PACING", "0"))


def appeal_text() -> tuple[str, str]:
    place = random.choice(PLACES)
    return f"{place}{random.choice(PROBLEMS)}（{random.randint(1, 10**9)}）", place


def phone() -> str:
    return f"13{random.randint(100000000, 999999999)}"


class ApiResident(FastHttpUser):
    """A relaying app or a resident's phone app: one JSON POST per appeal."""

    weight = int(os.environ.get("LOAD_API_WEIGHT", 3))
    wait_time = constant_pacing(PACING) if PACING else between(0.0, 0.05)

    @task
    def submit(self):
        text, place = appeal_text()
        body = json.dumps({"text": text, "address": place, "name": "测试", "phone": phone()}, ensure_ascii=False)
        with self.client.post("/api/v1/public/appeals", data=body.encode(), headers={"Content-Type": "application/json"},
                              name="POST /api/v1/public/appeals", catch_response=True) as response:
            if response.status_code != 201 or "tracking_code" not in (response.text or ""):
                response.failure(f"status {response.status_code}")


class FormResident(FastHttpUser):
    """A resident on the H5 page: the form (one-time token, CSRF cookie), then the POST."""

    weight = int(os.environ.get("LOAD_FORM_WEIGHT", 1))
    wait_time = constant_pacing(PACING) if PACING else between(0.0, 0.05)

    @task
    def submit(self):
        form = self.client.get("/appeal/new/", name="GET /appeal/new/")
        token, csrf = TOKEN.search(form.text or ""), CSRF.search(form.text or "")
        if not (token and csrf):
            return
        text, place = appeal_text()
        data = {"csrfmiddlewaretoken": csrf.group(1), "token": token.group(1), "text": text, "address": place,
                "reporter_name": "测试", "reporter_phone": phone()}
        with self.client.post("/appeal/new/", data=data, name="POST /appeal/new/", catch_response=True,
                              allow_redirects=False, headers={"Referer": self.host + "/appeal/new/"}) as response:
            if response.status_code != 302 or "/done/" not in (response.headers.get("Location") or ""):
                response.failure(f"status {response.status_code}")


class Staff(FastHttpUser):
    """A dispatcher or a street handler reading queues and opening cases."""

    weight = int(os.environ.get("LOAD_STAFF_WEIGHT", 1))
    wait_time = between(0.5, 1.5)

    def on_start(self):
        username = random.choice(["dispatcher", "street-JSL"])
        page = self.client.get("/accounts/login/", name="GET /accounts/login/")
        csrf = CSRF.search(page.text or "").group(1)
        self.client.post("/accounts/login/", data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": csrf},
                         name="POST /accounts/login/", headers={"Referer": self.host + "/accounts/login/"})
        self.queue_key = "to_dispatch" if username == "dispatcher" else "to_acknowledge"

    @task(3)
    def queue(self):
        page = self.client.get(f"/desk/queue/{self.queue_key}/", name="GET /desk/queue/<key>/")
        ids = CASE_LINK.findall(page.text or "")
        if ids:
            self.client.get(f"/desk/cases/{random.choice(ids)}/", name="GET /desk/cases/<id>/")

    @task(1)
    def all_cases(self):
        self.client.get("/desk/queue/all/?page=2", name="GET /desk/queue/all/?page=2")


# The one-line JSON summary printed at the end (shared with bench/helpdesk_baseline/).
import load_summary  # noqa: E402,F401
