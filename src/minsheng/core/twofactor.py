"""Optional two-factor login for staff: time-based one-time passwords (RFC 6238, via pyotp),
the six digits an authenticator app (or WeChat/Alipay's) shows.

A member of staff turns it on from their account page by scanning a QR code and typing one
code. From then on, after the password, `TwoFactorMiddleware` sends them to the code page
until they type a valid code in this session. The secret is encrypted at rest like residents'
data; each code is accepted once (its time step is remembered); the admin can reset a user
who lost their phone. Every step is audited. MINSHENG_2FA_REQUIRED_ROLES makes it compulsory
for the listed roles (e.g. admin).
"""

from __future__ import annotations

import base64

import pyotp
from django.conf import settings
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from .models import User
from .services import audit_record

SESSION_VERIFIED = "minsheng_2fa_user"
SESSION_PENDING = "minsheng_2fa_pending"
SESSION_FAILURES = "minsheng_2fa_failures"
MAX_FAILURES = 5
#: Codes of the previous and next 30-second step are accepted too (clock drift on phones).
VALID_WINDOW = 1


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(*, user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=f"{settings.MINSHENG_DISTRICT_NAME}民生诉求")


def qr_data_uri(uri: str) -> str:
    """The enrolment QR code as an inline SVG image (no request leaves the intranet, and the
    CSP's img-src allows data: URIs)."""
    import qrcode
    import qrcode.image.svg

    svg = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2).to_string()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()


def _matching_step(secret: str, code: str, *, now=None) -> int | None:
    """The time step whose code `code` is, within the window; None when it matches none."""
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    at = (now or timezone.now()).timestamp()
    step = int(at // totp.interval)
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        candidate = step + offset
        if pyotp.utils.strings_equal(totp.generate_otp(candidate), code):
            return candidate
    return None


def is_enabled(user) -> bool:
    return bool(getattr(user, "totp_enabled_at", None))


def is_required(user) -> bool:
    roles = getattr(settings, "MINSHENG_2FA_REQUIRED_ROLES", ())
    return bool(user.is_authenticated and (user.role in roles or (user.is_superuser and "admin" in roles)))


def code_check(*, user: User, code: str, now=None) -> bool:
    """True when `code` is the user's current code and has not been used before. The step
    is recorded with a conditional UPDATE, so a code replayed at the same moment from
    elsewhere is refused too."""
    if not is_enabled(user):
        return False
    step = _matching_step(user.totp_secret, code, now=now)
    if step is None:
        return False
    return User.objects.filter(pk=user.pk, totp_last_step__lt=step).update(totp_last_step=step) == 1


def session_verified(request) -> bool:
    return request.session.get(SESSION_VERIFIED) == request.user.pk


def login_verify(*, request, code: str) -> bool:
    """The code step after the password: audited either way; after MAX_FAILURES wrong codes
    the session is ended and the person starts again from the password."""
    from django.contrib.auth import logout

    user = request.user
    ip = request.META.get("REMOTE_ADDR")
    if code_check(user=user, code=code):
        request.session[SESSION_VERIFIED] = user.pk
        request.session.pop(SESSION_FAILURES, None)
        request.session.cycle_key()
        audit_record(action="login.2fa_success", actor=user, target=f"user:{user.username}", ip=ip)
        return True
    failures = request.session.get(SESSION_FAILURES, 0) + 1
    request.session[SESSION_FAILURES] = failures
    audit_record(action="login.2fa_failure", actor=user, target=f"user:{user.username}", ip=ip, detail={"failures": failures})
    if failures >= MAX_FAILURES:
        logout(request)
    return False


@transaction.atomic
def enable(*, request, secret: str, code: str) -> bool:
    """Turn two-factor login on with the secret the user just scanned, once they prove it
    works by typing its current code."""
    user = request.user
    step = _matching_step(secret, code)
    if step is None:
        return False
    user.totp_secret, user.totp_enabled_at, user.totp_last_step = secret, timezone.now(), step
    user.save(update_fields=["totp_secret", "totp_enabled_at", "totp_last_step"])
    request.session[SESSION_VERIFIED] = user.pk
    request.session.pop(SESSION_PENDING, None)
    audit_record(action="2fa.enable", actor=user, target=f"user:{user.username}", ip=request.META.get("REMOTE_ADDR"))
    return True


@transaction.atomic
def disable(*, request, code: str) -> bool:
    user = request.user
    if not code_check(user=user, code=code):
        return False
    User.objects.filter(pk=user.pk).update(totp_secret="", totp_enabled_at=None, totp_last_step=0)
    audit_record(action="2fa.disable", actor=user, target=f"user:{user.username}", ip=request.META.get("REMOTE_ADDR"))
    return True


@transaction.atomic
def reset(*, acting_user: User, user: User, ip: str | None = None) -> None:
    """The admin's reset for someone who lost their phone: they log in with the password
    alone (or must enrol again, where it is compulsory for their role)."""
    User.objects.filter(pk=user.pk).update(totp_secret="", totp_enabled_at=None, totp_last_step=0)
    audit_record(action="2fa.reset", actor=acting_user, target=f"user:{user.username}", ip=ip)


class TwoFactorMiddleware:
    """Hold a logged-in user with two-factor login on at the code page until this session
    has seen a valid code; send a user whose role requires it to enrolment."""

    EXEMPT_NAMES = ("desk:twofactor_verify", "logout", "set_language")
    SETUP_NAMES = ("desk:twofactor_setup",)

    def __init__(self, get_response):
        self.get_response = get_response
        self._exempt: tuple[str, ...] | None = None

    def _paths(self):
        if self._exempt is None:
            self._exempt = tuple(reverse(name) for name in self.EXEMPT_NAMES)
            self._setup = tuple(reverse(name) for name in self.SETUP_NAMES)
        return self._exempt, self._setup

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith((settings.STATIC_URL, "/healthz")):
            exempt, setup = self._paths()
            if request.path not in exempt:
                if is_enabled(user) and not session_verified(request):
                    return redirect(f"{reverse('desk:twofactor_verify')}?{urlencode({'next': request.get_full_path()})}")
                if not is_enabled(user) and is_required(user) and request.path not in setup:
                    return redirect("desk:twofactor_setup")
        return self.get_response(request)
