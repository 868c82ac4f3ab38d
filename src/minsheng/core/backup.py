"""Backup and restore of a whole deployment: the database and the uploaded files (media), in
one archive.

- SQLite: SQLite's online backup API, page by page, consistent while the app keeps writing;
  restore copies the pages back into the live database the same way.
- PostgreSQL: ``pg_dump --format=custom`` (consistent snapshot, compressed); restore runs
  ``pg_restore --clean --if-exists --single-transaction`` — all or nothing.

The archive (``.tar``) holds ``manifest.json`` (engine, time, SHA-256 of the database file,
file count), the database file and ``media/``. It holds personal data in its encrypted form,
and no keys: keep MINSHENG_DATA_KEYS and MINSHENG_INDEX_KEY in their own safe place — a
backup without its keys is unreadable, which is the point.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.utils import timezone

FORMAT = 1


class BackupError(RuntimeError):
    pass


@dataclass(frozen=True)
class BackupResult:
    path: Path
    engine: str
    database_bytes: int
    media_files: int


def _engine(alias: str = "default") -> str:
    vendor = connections[alias].vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(f"不支持的数据库：{vendor}")
    return vendor


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _pg_env(alias: str) -> tuple[list[str], dict[str, str]]:
    db = connections[alias].settings_dict
    args = []
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return args, env


def _dump_database(engine: str, target: Path, alias: str) -> None:
    connection = connections[alias]
    if engine == "sqlite":
        connection.ensure_connection()
        destination = sqlite3.connect(target)
        try:
            connection.connection.backup(destination, pages=4096)
        finally:
            destination.close()
        return
    args, env = _pg_env(alias)
    command = ["pg_dump", "--format=custom", "--no-owner", "--no-acl", "--file", str(target), *args, connection.settings_dict["NAME"]]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"pg_dump 失败：{result.stderr.strip()}")


def backup_create(*, out: Path | None = None, alias: str = "default") -> BackupResult:
    """Write a backup archive and return where it went (default: DATA_DIR/backups/)."""
    engine = _engine(alias)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    if out is None:
        out = Path(settings.MINSHENG_DATA_DIR) / "backups" / f"minsheng-{stamp}.tar"
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    db_name = "database.sqlite3" if engine == "sqlite" else "database.pgdump"
    media_root = Path(settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory(prefix="minsheng-backup-") as tmp:
        db_file = Path(tmp) / db_name
        _dump_database(engine, db_file, alias)
        media = sorted(p for p in media_root.rglob("*") if p.is_file()) if media_root.exists() else []
        manifest = {
            "format": FORMAT, "engine": engine, "created_at": timezone.now().isoformat(), "database": db_name,
            "database_sha256": _sha256(db_file), "database_bytes": db_file.stat().st_size, "media_files": len(media),
        }
        partial = out.with_name(out.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w") as tar:
            body = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size, info.mtime, info.mode = len(body), int(dt.datetime.now().timestamp()), 0o600
            tar.addfile(info, io.BytesIO(body))
            tar.add(db_file, arcname=db_name)
            for path in media:
                tar.add(path, arcname=f"media/{path.relative_to(media_root).as_posix()}")
        os.replace(partial, out)  # a crash mid-way leaves a .partial, never a truncated archive
    return BackupResult(path=out, engine=engine, database_bytes=manifest["database_bytes"], media_files=len(media))


def backup_manifest(path: Path) -> dict:
    with tarfile.open(path, mode="r") as tar:
        member = tar.extractfile("manifest.json")
        if member is None:
            raise BackupError("备份文件缺少 manifest.json。")
        manifest = json.loads(member.read())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"不认识的备份格式：{manifest.get('format')}")
    return manifest


def _restore_database(engine: str, db_file: Path, alias: str) -> None:
    connection = connections[alias]
    if engine == "sqlite":
        connection.ensure_connection()
        source = sqlite3.connect(db_file)
        try:
            # Page-by-page into the live database: every other connection sees the restored
            # data at its next transaction, as after any write.
            source.backup(connection.connection)
        finally:
            source.close()
        return
    connection.close()
    args, env = _pg_env(alias)
    command = ["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-acl", "--single-transaction", "--exit-on-error",
               *args, "--dbname", connection.settings_dict["NAME"], str(db_file)]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"pg_restore 失败（数据库未改动）：{result.stderr.strip()}")


def backup_restore(*, path: Path, alias: str = "default") -> dict:
    """Replace the database and the media folder with the archive's. The archive is checked
    (format, engine, database checksum) before anything is touched."""
    path = Path(path)
    manifest = backup_manifest(path)
    engine = _engine(alias)
    if manifest["engine"] != engine:
        raise BackupError(f"备份来自 {manifest['engine']}，当前数据库是 {engine}：不能跨数据库恢复。")
    media_root = Path(settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory(prefix="minsheng-restore-") as tmp:
        with tarfile.open(path, mode="r") as tar:
            tar.extractall(tmp, filter="data")  # refuses absolute paths, "..", links out of tmp
        db_file = Path(tmp) / manifest["database"]
        if _sha256(db_file) != manifest["database_sha256"]:
            raise BackupError("备份中的数据库文件校验和不符：文件已损坏。")
        _restore_database(engine, db_file, alias)
        staged = Path(tmp) / "media"
        if media_root.exists():
            shutil.rmtree(media_root)
        media_root.parent.mkdir(parents=True, exist_ok=True)
        if staged.exists():
            shutil.copytree(staged, media_root)
        else:
            media_root.mkdir(parents=True, exist_ok=True)
    return manifest
