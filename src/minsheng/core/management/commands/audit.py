"""`minsheng audit verify`: check the audit log's hash chain; exits 1 when it is broken."""

from django.core.management.base import BaseCommand, CommandError

from minsheng.core.models import AuditEntry
from minsheng.core.services import audit_verify_chain


class Command(BaseCommand):
    help = "Audit log tools. `verify` checks the hash chain (exit status 1 when an entry was altered or removed)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, action, **options):
        total = AuditEntry.objects.count()
        broken = audit_verify_chain()
        if broken:
            shown = ", ".join(str(i) for i in broken[:50])
            raise CommandError(f"Audit chain BROKEN at {len(broken)} of {total} entries: {shown}")
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {total} entries."))
