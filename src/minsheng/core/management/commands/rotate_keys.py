"""`minsheng rotate-keys`: re-encrypt residents' personal data under the newest key.

Put the new key first in MINSHENG_DATA_KEYS (keep the old ones after it), restart the
processes, then run this. Batched and resumable: stop it any time and run it again. When it
reports nothing left, the old keys can be removed from MINSHENG_DATA_KEYS.
"""

from django.core.management.base import BaseCommand

from minsheng.core.services import personal_data_reencrypt


class Command(BaseCommand):
    help = "Re-encrypt personal data under the first key of MINSHENG_DATA_KEYS (batched, resumable)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--reindex", action="store_true", help="also recompute every blind index (after changing MINSHENG_INDEX_KEY)")

    def handle(self, *args, batch_size, reindex, **options):
        def progress(label, count):
            self.stdout.write(f"  {label}: {count}", ending="\r")
            self.stdout.flush()

        done = personal_data_reencrypt(batch_size=batch_size, reindex=reindex, progress=progress)
        for label, count in done.items():
            self.stdout.write(f"{label}: {count} rows re-encrypted")
        self.stdout.write(self.style.SUCCESS("All personal data is under the current key."))
