from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def home(request):
    return HttpResponse("desk")


@login_required
def case_detail(request, pk):
    return HttpResponse(str(pk))
