"""`minsheng backup [--out FILE]`: the database and uploaded files in one archive."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from minsheng.core.backup import BackupError, backup_create
from minsheng.core.services import audit_record


class Command(BaseCommand):
    help = "Back up the database (SQLite online backup or pg_dump) and the media folder into one .tar archive."

    def add_arguments(self, parser):
        parser.add_argument("--out", type=Path, default=None, help="archive path (default: MINSHENG_DATA_DIR/backups/minsheng-<time>.tar)")

    def handle(self, *args, out, **options):
        try:
            result = backup_create(out=out)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        audit_record(action="backup.create", actor_name="system", target=str(result.path)[:200],
                     detail={"engine": result.engine, "database_bytes": result.database_bytes, "media_files": result.media_files})
        self.stdout.write(self.style.SUCCESS(
            f"Backup written: {result.path} ({result.engine}, database {result.database_bytes} bytes, {result.media_files} media files)"))
        self.stdout.write("The personal-data keys are not in the archive: keep MINSHENG_DATA_KEYS / MINSHENG_INDEX_KEY safe separately.")
