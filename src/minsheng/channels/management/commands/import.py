"""`minsheng import FILE [--valid-only] [--json]` — import appeals from an .xlsx or .csv file;
`minsheng import --template OUT.xlsx` — write the import template.

Every row is checked first and the errors are listed row by row; nothing is imported while
any row has an error unless --valid-only is given. With --json the last line printed is
{"rows", "created", "skipped_duplicates", "errors"}. Exit status: 0 imported (or nothing to
do), 1 errors in the file and nothing imported, 2 the file cannot be read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from minsheng.channels.importing import UnreadableFile, report_workbook, template_workbook
from minsheng.channels.services.imports import import_file

SHOWN_ERRORS = 200


class Command(BaseCommand):
    help = "Import appeals from a spreadsheet (.xlsx/.csv), or write the import template."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="the .xlsx or .csv file to import")
        parser.add_argument("--template", metavar="OUT.xlsx", help="write the import template to OUT.xlsx and stop")
        parser.add_argument("--valid-only", action="store_true", help="import the valid rows even when other rows have errors")
        parser.add_argument("--json", action="store_true", help='print {"rows", "created", "skipped_duplicates", "errors"} as the last line')
        parser.add_argument("--report", metavar="OUT.xlsx", help="write the row-by-row error report to OUT.xlsx")
        parser.add_argument("--user", help="username recorded as the importer")
        parser.add_argument("--no-auto-dispatch", action="store_true", help="only suggest; leave every imported appeal to a dispatcher")
        parser.add_argument("--quiet", action="store_true", help="no progress bar")
        parser.add_argument("--single-process", action="store_true", help="do not compute dispatch suggestions in a helper process")

    def handle(self, *args, **options):
        if options["template"]:
            Path(options["template"]).write_bytes(template_workbook())
            self.stdout.write(f"已写出导入模板：{options['template']}")
            return
        if not options["file"]:
            raise CommandError("请指定要导入的文件，或用 --template OUT.xlsx 生成导入模板。")
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"无法读取文件：{exc}") from exc
        user = self._user(options["user"])
        bars: list[tqdm] = []

        stream = getattr(self.stderr, "_out", sys.stderr)  # the raw stream: tqdm redraws its line with \r

        def progress_factory(total: int, stage: str):
            self._close(bars)
            label = "校验" if stage == "check" else "导入"
            bar = tqdm(total=total or None, desc=label, unit="行", file=stream, disable=options["quiet"], dynamic_ncols=True, leave=True)
            bars.append(bar)
            return bar.update

        try:
            report = import_file(content=content, filename=path.name, acting_user=user, valid_only=options["valid_only"],
                                 auto_dispatch=not options["no_auto_dispatch"], progress_factory=progress_factory,
                                 pipeline=not options["single_process"])
        except UnreadableFile as exc:
            self._close(bars)
            return self._finish(options, {"rows": 0, "created": 0, "skipped_duplicates": 0,
                                          "errors": [{"row": None, "column": "", "message": str(exc)}]}, [str(exc)], status=2)
        self._close(bars)
        if options["report"] and (report.errors or report.file_errors):
            Path(options["report"]).write_bytes(report_workbook(report.errors, file_errors=report.file_errors))
        lines = self._summary(report, options)
        status = 0 if report.imported or not (report.errors or report.file_errors) else 1
        return self._finish(options, report.as_json(), lines, status=status)

    def _user(self, username):
        if not username:
            return None
        from minsheng.core.models import User

        try:
            return User.objects.get(username=username, is_active=True)
        except User.DoesNotExist:
            raise CommandError(f"没有该用户：{username}") from None

    @staticmethod
    def _close(bars):
        while bars:
            bars.pop().close()

    def _summary(self, report, options) -> list[str]:
        lines = []
        for message in report.file_errors:
            lines.append(f"文件：{message}")
        if report.ignored_columns:
            lines.append("已忽略无法识别的列：" + "、".join(report.ignored_columns))
        for error in report.errors[:SHOWN_ERRORS]:
            lines.append(f"第{error['row']}行 [{error['column']}] {error['message']}")
        if len(report.errors) > SHOWN_ERRORS:
            lines.append(f"……另有{len(report.errors) - SHOWN_ERRORS}个错误（用 --report OUT.xlsx 导出全部）。")
        if report.imported:
            lines.append(f"共{report.rows}行：新建诉求{report.created}件（其中自动派单{report.auto_dispatched}件），"
                         f"重复跳过{report.skipped_duplicates}行，错误{len(report.errors)}个。批次号 {report.batch_id}。")
        elif report.errors or report.file_errors:
            lines.append(f"共{report.rows}行，有{len(report.errors) + len(report.file_errors)}个错误，未导入任何数据。"
                         "请修改后重新导入，或加 --valid-only 只导入有效行。")
        else:
            lines.append("没有数据需要导入。")
        return lines

    def _finish(self, options, payload: dict, lines: list[str], *, status: int):
        out = self.stderr if options["json"] else self.stdout
        for line in lines:
            out.write(line)
        if options["json"]:
            self.stdout.write(json.dumps(payload, ensure_ascii=False))
        if status:
            sys.exit(status)
