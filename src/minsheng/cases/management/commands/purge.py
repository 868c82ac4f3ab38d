"""`minsheng purge`: erase the personal data of cases finished longer ago than
MINSHENG_RETENTION_DAYS, and of the other records holding residents' data past that period
(the channels' answers, notes, issues, visits; beat also runs it nightly). Batched and safe
to re-run."""

from django.core.management.base import BaseCommand, CommandError

from minsheng.cases.errors import InvalidInput
from minsheng.cases.privacy import personal_data_purge


class Command(BaseCommand):
    help = "Erase residents' personal data of cases closed longer ago than the retention period."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="retention in days (default MINSHENG_RETENTION_DAYS)")
        parser.add_argument("--dry-run", action="store_true", help="only count the cases that would be erased")

    def handle(self, *args, days, dry_run, **options):
        try:
            result = personal_data_purge(retention_days=days, dry_run=dry_run)
        except InvalidInput as exc:
            raise CommandError(exc.message) from exc
        verb = "would be erased" if dry_run else "erased"
        for label, count in result.records.items():
            self.stdout.write(f"{label}: {count}")
        self.stdout.write(self.style.SUCCESS(f"{result.cases} cases' personal data {verb}."))
