"""`minsheng report monthly --month YYYY-MM --out FILE.docx` — write the monthly briefing
(月度通报) of the whole district for that month as a Word document.

The month must be written YYYY-MM and must have begun (the current month gives the figures so
far). The file is written only once the document is complete, so a failure never leaves half
a file behind. Progress goes to stderr, the result line to stdout.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from minsheng.analytics.briefing import BriefingError, briefing_build, parse_month


class Command(BaseCommand):
    help = "Reports. `monthly --month YYYY-MM --out FILE.docx` writes the monthly briefing (月度通报)."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["monthly"], help="monthly: the monthly briefing (月度通报) as .docx")
        parser.add_argument("--month", required=True, metavar="YYYY-MM", help="the month to report on, e.g. 2026-10")
        parser.add_argument("--out", required=True, metavar="FILE.docx", help="where to write the document")

    def handle(self, *args, kind, month, out, **options):
        try:
            first = parse_month(month)
        except BriefingError as exc:
            raise CommandError(str(exc)) from exc
        target = Path(out)
        if target.suffix.lower() != ".docx":
            raise CommandError(f"输出文件应以 .docx 结尾：{out}")
        if not target.parent.exists():
            raise CommandError(f"输出目录不存在：{target.parent}")
        started = time.monotonic()
        self.stderr.write(f"正在生成 {first.year}年{first.month}月 月度通报 …")

        def progress(step: str) -> None:
            self.stderr.write(f"  · {step}")

        content = briefing_build(month=first, progress=progress)
        # Write beside the target and rename: the target is either the old file or the new one.
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".briefing-", suffix=".docx")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(content)
            os.replace(temporary, target)
        except OSError as exc:
            Path(temporary).unlink(missing_ok=True)
            raise CommandError(f"无法写入 {out}：{exc}") from exc
        self.stdout.write(self.style.SUCCESS(
            f"已写出 {target}（{len(content) // 1024} KB，用时 {time.monotonic() - started:.1f} 秒）"
        ))
