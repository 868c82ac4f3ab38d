from django.conf import settings
from django.utils import timezone

from .choices import Role


def site(request):
    context = {"district_name": settings.MINSHENG_DISTRICT_NAME}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and getattr(user, "role", None) == Role.ADMIN:
        context["calendar_notice"] = _calendar_notice()
    return context


def _calendar_notice() -> int | None:
    """Next year, when its official holiday schedule is not loaded yet and the year is near
    (from November): deadlines into it are counted on the statutory holidays alone."""
    from .models import CalendarYear

    today = timezone.localdate()
    if today.month < 11:
        return None
    official = CalendarYear.objects.filter(year=today.year + 1, provisional=False).exists()
    return None if official else today.year + 1
