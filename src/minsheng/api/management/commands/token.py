"""`minsheng token create USERNAME [--name N]` · `minsheng token list` · `minsheng token revoke PREFIX`.

The key is printed once, when it is made: only its hash is kept."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from minsheng.cases.errors import InvalidInput
from minsheng.core.models import User

from ...selectors import tokens_all
from ...services.tokens import token_create, token_revoke


class Command(BaseCommand):
    help = "Create, list and revoke API tokens (接口令牌)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{create,list,revoke}")
        create = sub.add_parser("create", help="make a token for a user and print it once")
        create.add_argument("username")
        create.add_argument("--name", default="", help="what the token is for, e.g. 12345平台对接")
        sub.add_parser("list", help="list tokens (prefix, owner, name, created, last used, revoked)")
        revoke = sub.add_parser("revoke", help="revoke the token with this prefix")
        revoke.add_argument("prefix")

    def handle(self, *args, action: str, **options):
        try:
            if action == "create":
                self._create(options["username"], options["name"])
            elif action == "list":
                self._list()
            else:
                token = token_revoke(prefix=options["prefix"])
                self.stdout.write(f"revoked {token.prefix} ({token.user.username})")
        except InvalidInput as exc:
            raise CommandError(exc.message) from exc

    def _create(self, username: str, name: str) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"没有用户 {username}。")
        token, key = token_create(user=user, name=name)
        self.stderr.write(f"token {token.prefix} for {user.username} ({user.get_role_display()}); shown once, keep it safe:")
        self.stdout.write(key)

    def _list(self) -> None:
        rows = [("PREFIX", "USER", "NAME", "CREATED", "LAST USED", "REVOKED")]
        for t in tokens_all():
            rows.append((
                t.prefix, t.user.username, t.name or "-", f"{t.created_at:%Y-%m-%d %H:%M}",
                f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "-",
                f"{t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "-",
            ))
        widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
        for row in rows:
            self.stdout.write("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())
