"""Time the demo history: generate N cases into a fresh SQLite database.

    python bench/bench_demo_history.py [--cases 30000] [--seed 12345] [--keep]

Prints one JSON line: {"cases", "events", "seconds", "cases_per_s"}. Migration, district load
and account creation are not timed; the timed part is `history_generate` (simulation, bulk
writes, ANALYZE).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--keep", action="store_true", help="keep the database folder and print its path")
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="minsheng-bench-demo-")
    os.environ["MINSHENG_DATA_DIR"] = data_dir
    os.environ.pop("DATABASE_URL", None)  # a fresh SQLite file, whatever the shell says
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minsheng.config.settings")
    try:
        import django

        django.setup()
        from django.core.management import call_command

        from minsheng.demo.history import history_generate
        from minsheng.demo.services import demo_district_load, demo_users_ensure

        call_command("migrate", interactive=False, verbosity=0)
        demo_district_load()
        demo_users_ensure(password="bench-password-123")
        result = history_generate(cases=args.cases, seed=args.seed)
        print(json.dumps({
            "cases": result.cases,
            "events": result.events,
            "seconds": round(result.seconds, 2),
            "cases_per_s": round(result.cases / result.seconds, 1) if result.seconds else None,
        }))
        if args.keep:
            print(f"database kept in {data_dir}", file=sys.stderr)
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
