"""A member of staff's own account: turning two-factor login on and off, and the code step
after the password (see core.twofactor)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from minsheng.core import twofactor

from ..forms import CodeForm
from .common import safe_next


@login_required
@require_http_methods(["GET", "POST"])
def twofactor_setup(request):
    user = request.user
    form = CodeForm(request.POST or None)
    step = request.POST.get("step", "")
    if request.method == "POST" and step == "start" and not twofactor.is_enabled(user):
        request.session[twofactor.SESSION_PENDING] = twofactor.new_secret()
        form = CodeForm()
    elif request.method == "POST" and step == "confirm" and form.is_valid():
        secret = request.session.get(twofactor.SESSION_PENDING, "")
        if secret and twofactor.enable(request=request, secret=secret, code=form.cleaned_data["code"]):
            messages.success(request, _("已开启双因素登录。"))
            return redirect("desk:twofactor_setup")
        form.add_error("code", _("验证码不正确，请核对手机时间后重试。"))
    elif request.method == "POST" and step == "disable" and form.is_valid():
        if twofactor.disable(request=request, code=form.cleaned_data["code"]):
            messages.success(request, _("已关闭双因素登录。"))
            return redirect("desk:twofactor_setup")
        form.add_error("code", _("验证码不正确。"))
    pending = request.session.get(twofactor.SESSION_PENDING) if not twofactor.is_enabled(user) else None
    context = {"form": form, "enabled": twofactor.is_enabled(user), "required": twofactor.is_required(user), "active_tool": "account"}
    if pending:
        uri = twofactor.provisioning_uri(user=user, secret=pending)
        context.update(pending=True, qr=twofactor.qr_data_uri(uri), secret=pending)
    return render(request, "desk/twofactor_setup.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def twofactor_verify(request):
    if not twofactor.is_enabled(request.user) or twofactor.session_verified(request):
        return redirect(safe_next(request, "/desk/"))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if twofactor.login_verify(request=request, code=form.cleaned_data["code"]):
            return redirect(safe_next(request, "/desk/"))
        if not request.user.is_authenticated:
            messages.error(request, _("验证码错误次数过多，请重新登录。"))
            return redirect("login")
        form.add_error("code", _("验证码不正确或已使用。"))
    return render(request, "registration/twofactor_verify.html", {"form": form, "next": request.GET.get("next", "")},
                  status=400 if form.errors else 200)
