from django.conf import settings


def site(request):
    return {"district_name": settings.MINSHENG_DISTRICT_NAME}
