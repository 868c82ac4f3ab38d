"""Load test (locust): residents submitting appeals through the public form — every one runs
the dispatch engine and, when it is sure, dispatches — while staff read their queues and
open cases. Run by bench/load_run.sh against `minsheng serve` on PostgreSQL; see
docs/reliability.md for the figures.

    locust -f bench/load_locust.py --headless -u 40 -r 10 -t 150s --host http://127.0.0.1:8077
"""

from __future__ import annotations

import os
import random
import re

from locust import HttpUser, between, events, task

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


class Resident(HttpUser):
    """Opens the form and files an appeal (2 requests per submission)."""

    weight = int(os.environ.get("LOAD_RESIDENT_WEIGHT", 4))
    wait_time = between(0.0, 0.2)

    @task
    def submit(self):
        form = self.client.get("/appeal/new/", name="GET /appeal/new/")
        token, csrf = TOKEN.search(form.text), CSRF.search(form.text)
        if not (token and csrf):
            form.failure("form without token")
            return
        place = random.choice(PLACES)
        data = {
            "csrfmiddlewaretoken": csrf.group(1), "token": token.group(1),
            "text": f"{place}{random.choice(PROBLEMS)}（{random.randint(1, 10**9)}）", "address": place,
            "reporter_name": "测试", "reporter_phone": f"13{random.randint(100000000, 999999999)}",
        }
        with self.client.post("/appeal/new/", data=data, name="POST /appeal/new/ (submit+dispatch)", catch_response=True,
                              allow_redirects=False) as response:
            if response.status_code != 302 or "/done/" not in response.headers.get("Location", ""):
                response.failure(f"status {response.status_code}")


class Staff(HttpUser):
    """A dispatcher or a street handler reading queues and opening cases."""

    weight = int(os.environ.get("LOAD_STAFF_WEIGHT", 1))
    wait_time = between(0.2, 1.0)

    def on_start(self):
        username = random.choice(["dispatcher", "street-JSL"])
        page = self.client.get("/accounts/login/", name="GET /accounts/login/")
        csrf = CSRF.search(page.text).group(1)
        self.client.post("/accounts/login/", {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": csrf},
                         name="POST /accounts/login/")
        self.queue = "to_dispatch" if username == "dispatcher" else "to_acknowledge"

    @task(3)
    def queue(self):
        page = self.client.get(f"/desk/queue/{self.queue}/", name="GET /desk/queue/<key>/")
        ids = CASE_LINK.findall(page.text)
        if ids:
            self.client.get(f"/desk/cases/{random.choice(ids)}/", name="GET /desk/cases/<id>/")

    @task(1)
    def all_cases(self):
        self.client.get("/desk/queue/all/?page=2", name="GET /desk/queue/all/?page=2")


@events.quitting.add_listener
def _fail_on_errors(environment, **kwargs):
    if environment.stats.total.fail_ratio > 0:
        environment.process_exit_code = 1
