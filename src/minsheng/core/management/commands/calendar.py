"""`minsheng calendar`: the working calendar's years.

    minsheng calendar status              which years are loaded, official or provisional
    minsheng calendar load FILE.yaml      load a year's official schedule (the State Council's notice)
    minsheng calendar provisional YEAR    load YEAR with only the statutory public holidays
    minsheng calendar sync                copy every year the installed chinesecalendar knows
"""


import yaml
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from minsheng.core.models import CalendarDay, CalendarYear
from minsheng.core.services import calendar_load_provisional, calendar_load_schedule, calendar_sync_official


class Command(BaseCommand):
    help = "Working calendar: status, load FILE.yaml (a year's official schedule), provisional YEAR, sync."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("status", help="Loaded years, official or provisional.")
        load = actions.add_parser("load", help="Load a year's official schedule from a YAML file.")
        load.add_argument("file")
        provisional = actions.add_parser("provisional", help="Load a year with only its statutory public holidays.")
        provisional.add_argument("year", type=int)
        actions.add_parser("sync", help="Copy every year the installed chinesecalendar knows.")

    def handle(self, *args, action, **options):
        if action == "load":
            try:
                with open(options["file"], encoding="utf-8") as handle:
                    document = yaml.safe_load(handle)
                year, written = calendar_load_schedule(document=document)
            except (OSError, yaml.YAMLError, ValueError) as exc:
                raise CommandError(f"{options['file']}: {exc}") from exc
            self.stdout.write(self.style.SUCCESS(f"{year}: official schedule loaded ({written} days differ from Mon–Fri)."))
        elif action == "provisional":
            year = options["year"]
            if not 2000 <= year <= 2100:
                raise CommandError("year must be a four-digit year, e.g. 2027")
            written = calendar_load_provisional(year=year)
            if written:
                self.stdout.write(self.style.SUCCESS(f"{year}: provisional — {written} statutory holidays on weekdays."))
            else:
                self.stdout.write(f"{year} is already loaded; nothing changed.")
        elif action == "sync":
            written = calendar_sync_official()
            self.stdout.write(self.style.SUCCESS(f"Official schedules copied ({written} days)."))
        self._status()

    def _status(self):
        this_year = timezone.localdate().year
        years = {y.year: y for y in CalendarYear.objects.all()}
        for year in sorted(years):
            if year < this_year - 1:
                continue
            kind = "provisional: statutory holidays only, 调休 not yet announced" if years[year].provisional else "official"
            days = CalendarDay.objects.filter(date__year=year).count()
            self.stdout.write(f"  {year}  {kind}  ({days} days differ from Mon–Fri)")
        if this_year + 1 not in years or years[this_year + 1].provisional:
            self.stdout.write(self.style.WARNING(
                f"{this_year + 1}'s official schedule is not loaded: type the State Council's notice into a file "
                f"and run `minsheng calendar load FILE.yaml` (format: docs/calendar.md)."))
