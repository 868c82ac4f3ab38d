from django.core.management.base import BaseCommand, CommandError

from minsheng.cases.errors import InvalidInput
from minsheng.cases.services import district_load_files
from minsheng.data import GAZETTEER_PATH, TAXONOMY_PATH


class Command(BaseCommand):
    help = "Load (or reload, idempotently) a district: org tree, taxonomy with routing and deadlines, working calendar."

    def add_arguments(self, parser):
        parser.add_argument("taxonomy", nargs="?", default=str(TAXONOMY_PATH), help="taxonomy YAML (default: the demo district's)")
        parser.add_argument("gazetteer", nargs="?", default=str(GAZETTEER_PATH), help="gazetteer YAML (default: the demo district's)")

    def handle(self, *args, **opts):
        try:
            counts = district_load_files(taxonomy_path=opts["taxonomy"], gazetteer_path=opts["gazetteer"])
        except InvalidInput as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS("已加载：" + "，".join(f"{k} {v}" for k, v in counts.items())))
