"""`minsheng backup` / `minsheng restore`: a round trip brings back the database and the
uploaded files exactly (SQLite's online backup, or pg_dump/pg_restore on PostgreSQL)."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from minsheng.cases import services
from minsheng.cases.models import Case, CaseEvent
from minsheng.core.backup import BackupError, backup_manifest, backup_restore

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_round_trip_restores_database_and_media(committed_district, tmp_path, capsys):
    case = services.case_submit(text="计划路菜市场门口垃圾三天没人清运", channel="web", reporter_phone="13812345678")
    photo = services.case_attach(case=case, content=b"\xff\xd8photo", filename="a.jpg", content_type="image/jpeg")
    media_file = Path(settings.MEDIA_ROOT) / photo.file.name
    events = CaseEvent.objects.count()
    archive = tmp_path / "b.tar"

    call_command("backup", "--out", str(archive))
    assert "Backup written" in capsys.readouterr().out
    manifest = backup_manifest(archive)
    assert manifest["engine"] in ("sqlite", "postgresql") and manifest["media_files"] == 1
    assert archive.stat().st_mode & 0o777 == 0o600

    # Disaster: the case is gone, its photo too, and something new was written.
    Case.objects.filter(pk=case.pk).delete()
    media_file.unlink()
    services.case_submit(text="这是备份之后才提交的诉求内容", channel="web")

    call_command("restore", str(archive), "--yes")
    restored = Case.objects.get(pk=case.pk)
    assert restored.reporter_phone == "13812345678" and restored.text == case.text
    assert Case.objects.count() == 1 and CaseEvent.objects.count() == events
    assert media_file.read_bytes() == b"\xff\xd8photo"


def test_a_corrupted_archive_is_refused_before_anything_changes(committed_district, tmp_path):
    services.case_submit(text="计划路菜市场门口垃圾三天没人清运", channel="web")
    archive = tmp_path / "b.tar"
    call_command("backup", "--out", str(archive))
    manifest = backup_manifest(archive)
    broken = tmp_path / "broken.tar"
    with tarfile.open(archive) as src, tarfile.open(broken, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name == manifest["database"]:
                data = data[:-100] + b"x" * 100
            import io

            dst.addfile(member, io.BytesIO(data))
    before = Case.objects.count()
    with pytest.raises(BackupError, match="校验和"):
        backup_restore(path=broken)
    assert Case.objects.count() == before


def test_restore_refuses_what_is_not_a_backup(tmp_path):
    junk = tmp_path / "junk.tar"
    with tarfile.open(junk, "w"):
        pass
    with pytest.raises(CommandError):
        call_command("restore", str(junk), "--yes")
