"""`minsheng purge`: erase the personal data of cases finished longer ago than
MINSHENG_RETENTION_DAYS (beat also runs it nightly). Batched and safe to re-run."""

from django.core.management.base import BaseCommand, CommandError

from minsheng.cases.errors import InvalidInput
from minsheng.cases.privacy import cases_purge_personal_data


class Command(BaseCommand):
    help = "Erase residents' personal data of cases closed longer ago than the retention period."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="retention in days (default MINSHENG_RETENTION_DAYS)")
        parser.add_argument("--dry-run", action="store_true", help="only count the cases that would be erased")

    def handle(self, *args, days, dry_run, **options):
        try:
            count = cases_purge_personal_data(retention_days=days, dry_run=dry_run)
        except InvalidInput as exc:
            raise CommandError(exc.message) from exc
        verb = "would be erased" if dry_run else "erased"
        self.stdout.write(self.style.SUCCESS(f"{count} cases' personal data {verb}."))
