"""Bulk import of appeals from a spreadsheet (批量导入).

The rule is all or nothing: every row is checked first (importing.check_file) and nothing is
imported while any row has an error — unless the user chooses to import the valid rows only.
Rows are then imported in chunks: the dispatch engine suggests category, place and unit for a
whole chunk at once and the case engine registers the chunk in a few bulk statements
(dispatch.services.intake_suggest_many + cases.services.cases_intake_many: what
intake_process does for one case, batched). Each row's idempotency key (a hash of text,
phone and time) makes a second import of the same file create nothing new.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import logging
import os
from collections.abc import Callable, Sequence
from contextlib import closing, contextmanager, nullcontext
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from minsheng.cases.bulk_intake import IntakeResult, existing_keys
from minsheng.cases.errors import InvalidInput
from minsheng.cases.services import BulkCase, cases_intake_many
from minsheng.core.models import User

from .. import rules
from ..choices import ImportRowStatus, ImportStatus
from ..importing import CheckedRow, UnreadableFile, check_file
from ..models import SOURCE_IMPORT, ImportBatch, ImportRow
from .common import require

logger = logging.getLogger(__name__)

#: Rows per engine pass and bulk insert on the command line.
CHUNK_ROWS = 2000
#: Rows per step on the page (one request each, so each step stays well under a second or two).
STEP_ROWS = 500
#: The page takes files up to this size and row count; larger ones go through `minsheng import`.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
WEB_MAX_ROWS = 50_000

Progress = Callable[[int], None]


@dataclass
class ImportReport:
    """What an import did, as `minsheng import --json` prints it."""

    rows: int = 0
    created: int = 0
    skipped_duplicates: int = 0
    errors: list[dict] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    batch_id: int | None = None
    auto_dispatched: int = 0

    @property
    def imported(self) -> bool:
        return self.batch_id is not None

    def as_json(self) -> dict:
        errors = [{"row": None, "column": "", "message": m} for m in self.file_errors] + self.errors
        return {"rows": self.rows, "created": self.created, "skipped_duplicates": self.skipped_duplicates, "errors": errors}


# ---------------------------------------------------------------- the import proper


def import_rows(
    *,
    rows: Sequence[CheckedRow],
    batch: ImportBatch,
    acting_user: User | None,
    auto_dispatch: bool = True,
    chunk_rows: int = CHUNK_ROWS,
    progress: Progress | None = None,
    pipeline: bool = False,
    ahead: SuggestionsAhead | None = None,
) -> tuple[dict[str, IntakeResult], int]:
    """Import checked, valid rows in chunks. Returns the created cases (id, tracking code, main
    unit) by row key and how many rows were skipped as already imported (or repeated within
    the file).

    With `pipeline`, the dispatch engine works on the next chunks in a forked process while
    this one writes the current chunk (the command line: two cores instead of one); `ahead`
    is that process already started on `rows` while the file was checked (`import_file`)."""
    own_helper = ahead is None and pipeline and len(rows) > chunk_rows and _can_fork()
    if own_helper:
        ahead = SuggestionsAhead(auto_dispatch=auto_dispatch, chunk_rows=chunk_rows)
        for row in rows:
            ahead.add(row)
    try:
        if ahead is not None:
            todo, chunks = ahead.finish()
            duplicates = len(rows) - len(todo)
            outcome_chunks = ahead.outcomes()
        else:
            todo, duplicates = _new_rows(rows)
            chunks = [todo[start:start + chunk_rows] for start in range(0, len(todo), chunk_rows)]
            outcome_chunks = _outcomes_in_process(chunks, auto_dispatch)
        if progress is not None and duplicates:
            progress(duplicates)
        number_of = lambda index: todo[index].number  # noqa: E731 — repeat indexes count over the whole import
        created: dict[str, IntakeResult] = {}
        with closing(outcome_chunks), (_gc_frozen() if ahead is not None else nullcontext()):
            for chunk, outcomes in zip(chunks, outcome_chunks):
                cases = cases_intake_many(items=_bulk_cases(chunk, batch, outcomes, number_of), acting_user=acting_user, plain=True)
                duplicates += len(chunk) - len(cases)  # taken by a concurrent import meanwhile
                created.update((case.idempotency_key, case) for case in cases)
                if progress is not None:
                    progress(len(chunk))
    finally:
        if own_helper:
            ahead.close()
    return created, duplicates


@contextmanager
def _gc_frozen():
    """Keep the objects alive now (the checked rows, the engine) out of the cyclic garbage
    collector's sight while the chunks are written: they live for the whole import, and
    rescanning them on every full collection costs more than the import's own work. They are
    handed back to the collector at the end (and refcounting frees them as usual) — with
    everything frozen before, so only the command line's short-lived process does this, never
    a web worker (the page's steps)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _new_rows(rows: Sequence[CheckedRow], taken: set[str] | None = None) -> tuple[list[CheckedRow], int]:
    """The rows not imported before (nor earlier in this file), and how many were. `taken`:
    the keys already seen, kept across calls for a file handed over in parts (it grows)."""
    taken = set() if taken is None else taken
    taken.update(existing_keys([r.key for r in rows]))
    todo = []
    for row in rows:
        if row.key not in taken:
            taken.add(row.key)
            todo.append(row)
    return todo, len(rows) - len(todo)


def _times(rows: Sequence[CheckedRow]) -> list[dt.datetime | None]:
    return [dt.datetime.fromisoformat(r.values["reported_at"]) if r.values["reported_at"] else None for r in rows]


def _engine_items(rows: Sequence[CheckedRow]) -> list[dict]:
    now = timezone.now()
    return [{"text": r.values["text"], "address": r.values["address"], "at": at or now} for r, at in zip(rows, _times(rows))]


def _bulk_cases(rows: Sequence[CheckedRow], batch: ImportBatch, outcomes, number_of) -> list[BulkCase]:
    """The rows as new cases, with the dispatch engine's suggestions when there are some."""
    items = []
    for index, (row, at) in enumerate(zip(rows, _times(rows))):
        v = row.values
        item = BulkCase(
            text=v["text"], channel=v["channel"], idempotency_key=row.key, address=v["address"], reporter_name=v["name"],
            reporter_phone=v["phone"], submitted_at=at, source_type=SOURCE_IMPORT, source_id=str(batch.pk),
        )
        outcome = outcomes[index] if outcomes else None
        if outcome is not None:
            meta = dict(outcome.meta, import_row=row.number)
            if outcome.batch_duplicates:
                meta["import_repeats"] = [number_of(i) for i in outcome.batch_duplicates]
            item.dispatch_meta, item.category, item.urgency = meta, outcome.category, outcome.urgency
            item.street, item.community = outcome.street, outcome.community
            if outcome.auto_dispatch:
                item.auto_dispatch_unit = outcome.unit
                item.auto_dispatch_meta = {"auto": True, "model_version": meta.get("model_version"), "confidence": meta.get("unit_confidence")}
        items.append(item)
    return items


def _outcomes_in_process(chunks: list[list[CheckedRow]], auto_dispatch: bool):
    """Outcomes per chunk, computed in this process (each chunk compared with the earlier
    ones). When the engine fails the rows are imported without suggestions and wait for a
    dispatcher."""
    from minsheng.dispatch.services import BatchSuggester

    try:
        suggester = BatchSuggester(auto_dispatch=auto_dispatch)
    except Exception:
        logger.exception("the dispatch engine is unavailable for this import")
        yield from (None for _ in chunks)
        return
    failed = False
    try:
        for chunk in chunks:
            outcomes = None
            if not failed:
                try:
                    outcomes = suggester.suggest(_engine_items(chunk))
                except Exception:
                    logger.exception("dispatch suggestions failed for an import chunk")
                    failed = True
            yield outcomes
    finally:
        suggester.close()


# The engine and batch marker a forked helper process works with (set just before forking).
_FORKED: dict = {}


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods() and (os.cpu_count() or 1) > 1


def _suggest_in_child(job: tuple[int, list[dict]]):
    """In the helper process: suggestions for one chunk. The items stay in this process's
    copy of the duplicate index, so later chunks are compared with them (repeats within the
    file); it touches no database."""
    offset, items = job
    engine, marker = _FORKED["engine"], _FORKED["marker"]
    rows = [dict(item, case_key=(marker, offset + i), add_to_index=True) for i, item in enumerate(items)]
    suggestions = engine.suggest_many(rows)
    # What the duplicate index keeps lives until this process ends: out of the cyclic
    # collector's sight, so it is not rescanned again and again as the index grows.
    gc.freeze()
    return suggestions


class SuggestionsAhead:
    """The dispatch engine's suggestions computed ahead in one forked helper process (the
    command line). Rows are handed over as they come — while the file is still being checked,
    in `import_file` —, compared with the cases already imported and with the earlier rows of
    the file, cut into chunks, and each full chunk goes to the helper at once, so the engine
    works while this process reads the rest of the file and then writes. The helper stores
    nothing: when the check fails, `close` stops it and its work is dropped."""

    def __init__(self, *, auto_dispatch: bool, chunk_rows: int = CHUNK_ROWS):
        import multiprocessing

        from minsheng.dispatch.services import batch_marker, dispatch_engine

        self.auto_dispatch, self.chunk_rows = auto_dispatch, chunk_rows
        self.todo: list[CheckedRow] = []  # the rows to import, in order
        self.chunks: list[list[CheckedRow]] = []
        self._pending: list[CheckedRow] = []  # not yet compared with the database
        self._taken: set[str] = set()
        self._results: list = []
        self._pool = None
        try:
            _FORKED.update(engine=dispatch_engine(), marker=batch_marker())
        except Exception:
            logger.exception("the dispatch engine is unavailable for this import")
            return
        self.marker = _FORKED["marker"]
        self._pool = multiprocessing.get_context("fork").Pool(1)

    def add(self, row: CheckedRow) -> None:
        """Take a checked row (rows with errors are left out)."""
        if not row.ok:
            return
        self._pending.append(row)
        if len(self._pending) >= self.chunk_rows:
            self._compare()

    def finish(self) -> tuple[list[CheckedRow], list[list[CheckedRow]]]:
        """No more rows: the rows to import and their chunks."""
        self._compare()
        self._send(final=True)
        return self.todo, self.chunks

    def outcomes(self):
        """Outcomes per chunk, in order (None for every chunk once the engine fails: those
        rows are imported without suggestions and wait for a dispatcher)."""
        from minsheng.dispatch.services import bulk_outcomes

        failed = self._pool is None
        for result in self._results if self._pool is not None else self.chunks:
            outcomes = None
            if not failed:
                try:
                    outcomes = bulk_outcomes(suggestions=result.get(), marker=self.marker, auto_dispatch=self.auto_dispatch)
                except Exception:
                    logger.exception("dispatch suggestions failed for an import chunk")
                    failed = True
            yield outcomes

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
        _FORKED.clear()

    def _compare(self) -> None:
        self.todo.extend(_new_rows(self._pending, self._taken)[0])
        self._pending = []
        self._send()

    def _send(self, final: bool = False) -> None:
        sent = sum(len(chunk) for chunk in self.chunks)
        while len(self.todo) - sent >= self.chunk_rows or (final and len(self.todo) > sent):
            chunk = self.todo[sent:sent + self.chunk_rows]
            self.chunks.append(chunk)
            if self._pool is not None:
                self._results.append(self._pool.apply_async(_suggest_in_child, ((sent, _engine_items(chunk)),)))
            sent += len(chunk)


# ---------------------------------------------------------------- command line


def import_file(
    *,
    content: bytes,
    filename: str,
    acting_user: User | None = None,
    valid_only: bool = False,
    auto_dispatch: bool = True,
    progress_factory: Callable[[int, str], Progress] | None = None,
    pipeline: bool = False,
) -> ImportReport:
    """Check a whole file, then import it (or its valid rows) — `minsheng import FILE`.
    Raises UnreadableFile when the file cannot be read at all."""
    check_progress = progress_factory(0, "check") if progress_factory else None
    ahead = SuggestionsAhead(auto_dispatch=auto_dispatch) if pipeline and _can_fork() else None
    try:
        return _import_checked(content=content, filename=filename, acting_user=acting_user, valid_only=valid_only,
                               auto_dispatch=auto_dispatch, progress_factory=progress_factory, check_progress=check_progress,
                               ahead=ahead)
    finally:
        if ahead is not None:
            ahead.close()


def _import_checked(*, content, filename, acting_user, valid_only, auto_dispatch, progress_factory, check_progress,
                    ahead: SuggestionsAhead | None) -> ImportReport:
    checked = check_file(content, filename, progress=check_progress, on_row=ahead.add if ahead is not None else None)
    report = ImportReport(
        rows=len(checked.rows), errors=[e.as_dict() for e in checked.errors], file_errors=list(checked.file_errors),
        ignored_columns=list(checked.ignored_columns),
    )
    if checked.file_errors or (checked.error_rows and not valid_only):
        return report
    valid = [row for row in checked.rows if row.ok]
    batch = ImportBatch.objects.create(
        file_name=filename[-200:], status=ImportStatus.IMPORTING, total_rows=len(checked.rows), error_rows=checked.error_rows,
        valid_only=valid_only, created_by=acting_user if acting_user is not None and acting_user.pk else None,
    )
    progress = progress_factory(len(valid), "import") if progress_factory else None
    created, duplicates = import_rows(rows=valid, batch=batch, acting_user=acting_user, auto_dispatch=auto_dispatch, progress=progress,
                                      ahead=ahead)
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportStatus.DONE, processed_rows=len(valid), created_count=len(created), duplicate_count=duplicates,
        finished_at=timezone.now(),
    )
    report.batch_id, report.created, report.skipped_duplicates = batch.pk, len(created), duplicates
    report.auto_dispatched = sum(1 for c in created.values() if c.main_unit_id)
    return report


# ---------------------------------------------------------------- the page: check, confirm, import step by step


@transaction.atomic
def import_batch_create(*, acting_user: User, filename: str, content: bytes) -> ImportBatch:
    """Check an uploaded file and keep its rows (cleaned values and errors) for the next
    steps. Nothing is imported yet."""
    require(rules.can_import(acting_user), "您无权批量导入诉求。")
    if len(content) > MAX_UPLOAD_BYTES:
        raise InvalidInput(f"文件太大（最多{MAX_UPLOAD_BYTES // (1024 * 1024)}MB）。更大的文件请用命令行 minsheng import 导入。")
    try:
        checked = check_file(content, filename, max_rows=WEB_MAX_ROWS)
    except UnreadableFile as exc:
        raise InvalidInput(str(exc)) from exc
    batch = ImportBatch.objects.create(
        file_name=(filename or "")[-200:], total_rows=len(checked.rows), error_rows=checked.error_rows,
        file_errors=list(checked.file_errors) + [f"已忽略无法识别的列：{name}" for name in checked.ignored_columns],
        created_by=acting_user,
    )
    ImportRow.objects.bulk_create(
        [
            ImportRow(batch=batch, row_number=row.number, payload=json.dumps(row.values, ensure_ascii=False), errors=[e.as_dict() for e in row.errors], key=row.key,
                      status=ImportRowStatus.PENDING if row.ok else ImportRowStatus.INVALID)
            for row in checked.rows
        ],
        batch_size=1000,
    )
    if checked.file_errors:
        batch.status = ImportStatus.CANCELLED
        batch_personal_data_drop(batch, now=timezone.now())
        batch.save(update_fields=["status", "personal_data_erased_at"])
    return batch


def _check_batch(user: User, batch: ImportBatch) -> None:
    require(rules.can_import(user), "您无权批量导入诉求。")


@transaction.atomic
def import_batch_start(*, batch: ImportBatch, acting_user: User, valid_only: bool) -> ImportBatch:
    """Confirm the import: the whole file when it is clean; with errors, only when the user
    chose to import the valid rows."""
    _check_batch(acting_user, batch)
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != ImportStatus.VALIDATED:
        raise InvalidInput("该批次已开始导入或已取消。")
    if batch.error_rows and not valid_only:
        raise InvalidInput("文件中有错误行：请修改后重新上传，或选择“仅导入有效行”。")
    if batch.valid_rows == 0:
        raise InvalidInput("没有可以导入的有效行。")
    batch.status, batch.valid_only = ImportStatus.IMPORTING, bool(valid_only and batch.error_rows)
    batch.save(update_fields=["status", "valid_only"])
    return batch


@transaction.atomic
def import_batch_step(*, batch: ImportBatch, acting_user: User, limit: int = STEP_ROWS, auto_dispatch: bool = True) -> ImportBatch:
    """Import the next rows of a confirmed batch; the page calls it until the batch is done.
    Safe to call twice at once: the batch row is locked and row keys are idempotent."""
    _check_batch(acting_user, batch)
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != ImportStatus.IMPORTING:
        return batch
    pending = list(batch.rows.filter(status=ImportRowStatus.PENDING).order_by("row_number")[:limit])
    if pending:
        checked = [CheckedRow(number=r.row_number, values=r.values, key=r.key) for r in pending]
        created, duplicates = import_rows(rows=checked, batch=batch, acting_user=acting_user, auto_dispatch=auto_dispatch,
                                          chunk_rows=limit)
        for row in pending:
            case = created.get(row.key)
            row.status, row.case_id = (ImportRowStatus.CREATED, case.pk) if case is not None else (ImportRowStatus.DUPLICATE, None)
            row.values = without_personal_data(row.values)  # the case holds them now
        ImportRow.objects.bulk_update(pending, ["status", "case", "payload"], batch_size=500)
        batch.processed_rows += len(pending)
        batch.created_count += len(created)
        batch.duplicate_count += duplicates
    if not pending or not batch.rows.filter(status=ImportRowStatus.PENDING).exists():
        batch.status, batch.finished_at = ImportStatus.DONE, timezone.now()
        batch_personal_data_drop(batch, now=batch.finished_at)
    batch.save(update_fields=["status", "finished_at", "processed_rows", "created_count", "duplicate_count", "personal_data_erased_at"])
    return batch


@transaction.atomic
def import_batch_cancel(*, batch: ImportBatch, acting_user: User) -> ImportBatch:
    """Drop a checked batch that was not imported (what was imported stays)."""
    _check_batch(acting_user, batch)
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status in (ImportStatus.VALIDATED, ImportStatus.IMPORTING):
        batch.status, batch.finished_at = ImportStatus.CANCELLED, timezone.now()
        batch_personal_data_drop(batch, now=batch.finished_at)
        batch.save(update_fields=["status", "finished_at", "personal_data_erased_at"])
    return batch


PERSONAL_COLUMNS = ("name", "phone", "address")


def without_personal_data(values: dict) -> dict:
    return {key: ("" if key in PERSONAL_COLUMNS else value) for key, value in values.items()}


def batch_personal_data_drop(batch: ImportBatch, *, now: dt.datetime) -> int:
    """Drop the names, phones and addresses the batch's rows still hold (rows not imported:
    with errors, or left when the batch ended). An imported row's appeal holds its own copy,
    which the case engine's retention and erasure cover; the batch keeps only what its page
    and the error report show. Returns the rows changed."""
    rows = [row for row in batch.rows.filter(status__in=(ImportRowStatus.PENDING, ImportRowStatus.INVALID)).only("id", "payload")
            if any(row.values.get(key) for key in PERSONAL_COLUMNS)]
    for row in rows:
        row.values = without_personal_data(row.values)
    ImportRow.objects.bulk_update(rows, ["payload"], batch_size=500)
    batch.personal_data_erased_at = now
    return len(rows)
