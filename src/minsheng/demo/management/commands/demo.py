"""`minsheng demo`: one command from an empty folder to a working demo of the district."""

from __future__ import annotations

import time

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from minsheng.cases.errors import InvalidInput
from minsheng.core.calendar import get_calendar, invalidate_calendar
from minsheng.demo.history import DEFAULT_CASES, DEFAULT_DAYS, DEFAULT_SEED, HistoryError, history_exists, history_generate
from minsheng.demo.services import demo_district_load, demo_users_ensure


class Command(BaseCommand):
    help = "启动演示：迁移数据库，加载中原区，创建演示账号，生成约一年的历史诉求，并在本机启动服务。"

    def add_arguments(self, parser):
        parser.add_argument("--password", help="所有演示账号的密码（不给则为新账号生成一个并只显示一次；已有账号密码不变）")
        parser.add_argument("--port", type=int, default=8000, help="服务端口（默认 8000，只监听 127.0.0.1）")
        parser.add_argument("--no-history", action="store_true", help="不生成历史数据")
        parser.add_argument("--no-serve", action="store_true", help="准备好数据后退出，不启动服务")
        parser.add_argument("--cases", type=int, default=DEFAULT_CASES, help=f"历史案件数（默认 {DEFAULT_CASES}）")
        parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help=f"历史跨度天数（默认 {DEFAULT_DAYS}）")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="随机种子：同一种子生成同样的历史")

    def handle(self, *args, **opts):
        password = opts["password"]
        if password is not None:
            try:
                validate_password(password)
            except ValidationError as exc:
                raise CommandError("密码不符合要求：" + "；".join(exc.messages)) from exc
        if opts["cases"] < 1 or opts["days"] < 1:
            raise CommandError("--cases 和 --days 须为正数。")

        self._step("数据库迁移")
        call_command("migrate", interactive=False, verbosity=0)
        self._step("加载演示地区（中原区）")
        try:
            counts = demo_district_load()
        except InvalidInput as exc:
            raise CommandError(exc.message) from exc
        invalidate_calendar()
        self._ok(f"街道 {counts['streets']}，社区/村 {counts['communities']}，部门 {counts['departments']}，"
                 f"诉求小类 {counts['subcategories']}，日历调整 {counts['calendar_days']} 天")

        self._step("演示账号")
        users = demo_users_ensure(password=password)
        self._ok(f"共 {len(users.accounts)} 个账号：新建 {len(users.created)}，更新 {len(users.updated)}，未变 {users.unchanged}")
        if users.generated_password:
            self.stdout.write(self.style.WARNING(f"  新账号的密码（只显示这一次，请记下）：{users.generated_password}"))
            if users.unchanged or users.updated:
                self.stdout.write("  已有账号的密码未改变。")
        elif users.password_set:
            self.stdout.write("  所有演示账号的密码已设为 --password 给出的密码。")
        else:
            self.stdout.write("  已有账号的密码未改变（需要时用 --password 重设）。")

        if not opts["no_history"]:
            self._history(opts)
        self._dispatch_model()

        self._summary(opts["port"], users.accounts)
        if opts["no_serve"]:
            return
        self._serve(opts["port"])

    # ------------------------------------------------------------------

    def _dispatch_model(self) -> None:
        """Train (or load the cached) dispatch model now, and index the open cases, so the
        first appeal submitted in the demo is answered at once."""
        from minsheng.dispatch.services import dispatch_engine

        self._step("智能分拨模型")
        engine = dispatch_engine()
        self._ok(f"模型 {engine.classifier.version}，重复诉求索引 {len(engine.dup_index)} 件在办案件")

    def _history(self, opts) -> None:
        self._step("历史数据")
        if history_exists():
            self._ok("已有演示历史数据，保留不动（不重复生成）。")
            return
        calendar = get_calendar()
        year = timezone.localdate().year
        if year not in calendar.years:
            self.stdout.write(self.style.WARNING(
                f"  工作日历中没有 {year} 年的节假日安排（chinesecalendar 尚未收录）：工作日时限无法计算，"
                "生成的历史会停在派单之前。请升级 chinesecalendar 或在管理后台录入。"
            ))
        started = time.perf_counter()
        try:
            result = history_generate(cases=opts["cases"], days=opts["days"], seed=opts["seed"], progress=True)
        except HistoryError as exc:
            raise CommandError(str(exc)) from exc
        states = "，".join(f"{k} {v}" for k, v in result.states.items())
        self._ok(f"{result.cases} 件案件，{result.events} 条办理记录，用时 {time.perf_counter() - started:.1f} 秒")
        self.stdout.write(f"  状态分布：{states}")

    def _summary(self, port: int, accounts) -> None:
        by_kind: dict[str, list[str]] = {}
        for account in accounts:
            by_kind.setdefault(account.username.split("-")[0] if "-" in account.username else "district", []).append(account.username)
        self.stdout.write("")
        if by_kind.get("district"):
            self.stdout.write(f"  区级账号：{'、'.join(by_kind['district'])}")
        labels = {"street": "街道承办人", "community": "社区承办人", "dept": "部门承办人"}
        for kind, label in labels.items():
            names = by_kind.get(kind, [])
            if names:
                shown = "、".join(names[:6]) + (f" …（共 {len(names)} 个）" if len(names) > 6 else "")
                self.stdout.write(f"  {label}：{shown}")

    def _serve(self, port: int) -> None:
        from minsheng.core.worker import start_embedded_worker

        start_embedded_worker()
        url = f"http://127.0.0.1:{port}/"
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"演示已就绪：{url}    工作台：{url}desk/    管理后台：{url}admin/"))
        self.stdout.write("按 Ctrl+C 停止。")
        # runserver without the autoreloader keeps the embedded worker thread in this process;
        # --insecure serves the vendored static files with DEBUG off.
        call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, insecure_serving=True, skip_checks=True)

    def _step(self, label: str) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING(f"▶ {label}"))

    def _ok(self, text: str) -> None:
        self.stdout.write(self.style.SUCCESS(f"  {text}"))
