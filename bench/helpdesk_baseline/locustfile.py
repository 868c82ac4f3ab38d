"""The same shape as bench/load_locust.py's form residents, against django-helpdesk's public
ticket form: the form page (CSRF), then the POST of a new ticket into the public queue."""

import random
import re
import sys
from pathlib import Path

from locust import FastHttpUser, between, task

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import load_summary  # noqa: E402,F401  (the same JSON summary as bench/load_locust.py)

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class FormResident(FastHttpUser):
    wait_time = between(0.0, 0.05)

    @task
    def submit(self):
        form = self.client.get("/tickets/submit/", name="GET /tickets/submit/")
        csrf = CSRF.search(form.text or "")
        if not csrf:
            return
        data = {"csrfmiddlewaretoken": csrf.group(1), "title": f"计划路菜市场门口垃圾没人清运（{random.randint(1, 10**9)}）",
                "body": "门口垃圾三天没人清运，气味很大，请尽快处理", "priority": "3", "submitter_email": "resident@example.org"}
        with self.client.post("/tickets/submit/", data=data, name="POST /tickets/submit/", catch_response=True,
                              allow_redirects=False, headers={"Referer": self.host + "/tickets/submit/"}) as response:
            if response.status_code != 302:
                response.failure(f"status {response.status_code}")
