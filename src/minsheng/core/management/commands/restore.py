"""`minsheng restore FILE`: replace the database and media folder with a backup's."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from minsheng.core.backup import BackupError, backup_manifest, backup_restore
from minsheng.core.services import audit_record


class Command(BaseCommand):
    help = "Restore the database and media folder from a `minsheng backup` archive (replaces what is there)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, file, yes, **options):
        try:
            manifest = backup_manifest(file)
        except (BackupError, OSError, KeyError) as exc:
            raise CommandError(f"Not a minsheng backup: {exc}") from exc
        self.stdout.write(f"Backup of {manifest['created_at']} ({manifest['engine']}, {manifest['media_files']} media files).")
        if not yes and input("This REPLACES the current database and media folder. Type 'restore' to go on: ").strip() != "restore":
            raise CommandError("Cancelled.")
        try:
            backup_restore(path=file)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        audit_record(action="backup.restore", actor_name="system", target=str(file)[:200], detail={"created_at": manifest["created_at"]})
        self.stdout.write(self.style.SUCCESS("Restored. Restart the web and worker processes."))
