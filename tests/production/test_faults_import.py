"""`minsheng import` killed with SIGKILL in the middle of a large file, then run again: the
chunks committed before the kill stay, the chunk in flight is rolled back whole, and the
second run adds exactly the missing rows — every row there once, with one submit event and one
outbox message each, checked by counting."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from minsheng.cases.models import Case, CaseEvent
from minsheng.channels.services.imports import CHUNK_ROWS
from minsheng.core.models import OutboxMessage
from tests.core.test_outbox_faults import database_url

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
ROWS = CHUNK_ROWS * 4
HEADER = ["诉求内容", "地址", "姓名", "联系电话", "渠道", "反映时间"]
TEXTS = [("计划路菜市场门口垃圾没人清运，气味很大", "计划路"), ("碧沙岗公园南门人行道地砖松动，老人容易绊倒", "碧沙岗公园"),
         ("伊河路26号院3号楼楼道里燃气味很重，怀疑漏气", "伊河路26号院"), ("秦岭路中段路灯不亮，晚上很黑", "秦岭路")]


def large_file(path: Path) -> None:
    start = timezone.localtime() - dt.timedelta(days=20)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for i in range(ROWS):
        text, place = TEXTS[i % len(TEXTS)]
        when = (start + dt.timedelta(minutes=i)).replace(tzinfo=None, microsecond=0)
        writer.writerow([f"{text}（第{i}号）", place, "张三", f"138{i:08d}", "热线电话", when.strftime("%Y-%m-%d %H:%M:%S")])
    path.write_bytes(buffer.getvalue().encode("utf-8-sig"))


def importer(path: Path, tmp_path: Path) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "minsheng.config.settings_test", "DATABASE_URL": database_url(),
           # the model the test process uses (trained once and cached there), not a fresh training
           "MINSHENG_DATA_DIR": str(settings.MINSHENG_DATA_DIR), "LOG_LEVEL": "WARNING"}
    # Its own process group: the kill takes the importer and its helper process together.
    return subprocess.Popen([sys.executable, "-m", "minsheng.cli", "import", str(path), "--json", "--quiet"], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=(tmp_path / "import.log").open("w"), start_new_session=True)


def test_an_import_killed_mid_file_and_run_again_has_every_row_once(committed_district, tmp_path):
    path = tmp_path / "appeals.csv"
    large_file(path)

    first = importer(path, tmp_path)
    try:
        deadline = time.monotonic() + 240
        while Case.objects.count() == 0 and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(first.pid, signal.SIGKILL)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
        first.wait(30)
    assert first.returncode == -signal.SIGKILL, (tmp_path / "import.log").read_text()[-2000:]
    kept = Case.objects.count()
    # Killed mid-file: some chunks committed, whole chunks only, and not all of them.
    assert 0 < kept < ROWS and kept % CHUNK_ROWS == 0, kept
    assert CaseEvent.objects.filter(action="submit").count() == kept
    assert OutboxMessage.objects.filter(topic="case.submit").count() == kept

    second = importer(path, tmp_path)
    out, _ = second.communicate(timeout=400)
    assert second.returncode == 0, (tmp_path / "import.log").read_text()[-2000:]
    report = json.loads(out.decode().strip().splitlines()[-1])
    assert (report["rows"], report["created"], report["skipped_duplicates"]) == (ROWS, ROWS - kept, kept)

    # Every row there once.
    assert Case.objects.count() == ROWS
    assert Case.objects.values("idempotency_key").distinct().count() == ROWS
    assert Case.objects.values("text").distinct().count() == ROWS
    assert CaseEvent.objects.filter(action="submit").count() == ROWS
    assert OutboxMessage.objects.filter(topic="case.submit").values("payload__case_id").distinct().count() == ROWS
    assert OutboxMessage.objects.filter(topic="case.submit").count() == ROWS
    for action in ("submit", "suggest", "dispatch"):
        assert not CaseEvent.objects.filter(action=action).values("case").annotate(n=Count("id")).filter(n__gt=1).exists(), action
