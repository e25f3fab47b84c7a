"""MFA for the Django admin: a staff user answers their MFA before any admin page.

Opt in with :class:`MFAAdminSite` (``admin.site`` replaced through an
``AdminConfig`` subclass, or a site of your own) or by mixing
:class:`MFAAdminSiteMixin` into your own ``AdminSite`` subclass. After the
admin's password login, every admin page first sends the staff user to
``mfa/verify/``, which runs the API's login pipeline: the same challenge
row, codes (the primary method's, another active method's or a backup code),
back-off, lockout and audit events (purpose ``login``). A right code marks
the session (for that user only; logging out or in as someone else clears
it). A staff user without MFA is sent to ``mfa/setup/`` to activate a
method (``ADMIN_MFA_SETUP = True``, the default) or refused with a page
that says MFA is required (``False``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from trench_mfa.conf import mfa_settings
from trench_mfa.exceptions import InvalidToken, Locked, MFAError, Throttled
from trench_mfa.flows import default_flow
from trench_mfa.login import factors
from trench_mfa.services import methods
from trench_mfa.services.protection import usable_methods

if TYPE_CHECKING:
    _SiteBase = admin.AdminSite
else:
    _SiteBase = object

#: Session keys: the verified user's primary key, the open challenge, the method being set up.
VERIFIED_KEY = "trench_mfa_admin_verified"
CHALLENGE_KEY = "trench_mfa_admin_challenge"
SETUP_KEY = "trench_mfa_admin_setup"


def is_verified(request: HttpRequest) -> bool:
    """Whether this session's user answered their MFA in the admin."""
    user = request.user
    return bool(user.is_authenticated) and request.session.get(VERIFIED_KEY) == str(user.pk)


def _is_staff(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_authenticated and user.is_active and getattr(user, "is_staff", False))


def _error_text(error: MFAError) -> str:
    if isinstance(error, Locked):
        return _("Too many wrong codes. Try again in %(seconds)d seconds.") % {
            "seconds": error.retry_after
        }
    if isinstance(error, Throttled):
        return _("Please wait %(seconds)d seconds before trying again.") % {
            "seconds": error.retry_after
        }
    return str(error.detail)


class MFAAdminSiteMixin(_SiteBase):
    """``AdminSite`` mixin: every admin page needs the staff user's MFA first."""

    #: Templates of the two MFA pages (override to restyle them).
    mfa_verify_template = "trench_mfa/admin/mfa_verify.html"
    mfa_setup_template = "trench_mfa/admin/mfa_setup.html"

    def has_permission(self, request: HttpRequest) -> bool:
        """The site's own rule, and the MFA of this session."""
        return bool(super().has_permission(request)) and is_verified(request)

    def get_urls(self) -> list[URLPattern | URLResolver]:
        """The MFA pages, then the site's own URLs."""
        return [
            path("mfa/verify/", self._mfa_view(self.mfa_verify), name="mfa_verify"),
            path("mfa/setup/", self._mfa_view(self.mfa_setup), name="mfa_setup"),
            *super().get_urls(),
        ]

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        """A staff user who passed the password but not MFA goes on to the MFA page."""
        if _is_staff(request) and not is_verified(request):
            target = reverse(f"{self.name}:mfa_verify")
            following = request.GET.get("next")
            if following:
                target += "?" + request.GET.urlencode()
            return HttpResponseRedirect(target)
        return super().login(request, extra_context)

    def _mfa_view(self, view: Any) -> Any:
        def guarded(request: HttpRequest) -> HttpResponse:
            if not _is_staff(request):
                return HttpResponseRedirect(reverse(f"{self.name}:login"))
            if is_verified(request):
                return self._next(request)
            return view(request)

        return never_cache(csrf_protect(guarded))

    def _next(self, request: HttpRequest) -> HttpResponse:
        target = request.POST.get("next") or request.GET.get("next") or ""
        allowed = url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        return HttpResponseRedirect(target if allowed else reverse(f"{self.name}:index"))

    def _page(self, request: HttpRequest, template: str, **context: Any) -> HttpResponse:
        context = {
            **self.each_context(request),
            "next": request.POST.get("next") or request.GET.get("next") or "",
            "index_url": reverse(f"{self.name}:index"),
            **context,
        }
        return render(request, template, context, status=context.pop("status", 200))

    def _verified(self, request: HttpRequest) -> HttpResponse:
        request.session.pop(CHALLENGE_KEY, None)
        request.session.pop(SETUP_KEY, None)
        request.session[VERIFIED_KEY] = str(request.user.pk)
        return self._next(request)

    def _challenge(self, request: HttpRequest) -> dict[str, Any]:
        """The session's open challenge, or a new one (its code is sent now)."""
        current = request.session.get(CHALLENGE_KEY)
        if isinstance(current, dict):
            return current
        flow = default_flow()
        plan = factors.code_factors(flow, request.user)
        assert plan is not None and plan.factors  # the caller checked MFA is on
        step = factors.open_challenge(request, flow, request.user, plan)
        current = {"token": step.ephemeral_token, "method": step.method}
        request.session[CHALLENGE_KEY] = current
        return current

    def mfa_verify(self, request: HttpRequest) -> HttpResponse:
        """Ask for a code of the staff user's MFA (or a backup code) and check it."""
        if not usable_methods(request.user):
            if mfa_settings.ADMIN_MFA_SETUP:
                return HttpResponseRedirect(reverse(f"{self.name}:mfa_setup"))
            return self._page(request, self.mfa_setup_template, refused=True, status=403)
        error = ""
        try:
            challenge = self._challenge(request)
            if request.method == "POST":
                code = str(request.POST.get("code", "")).strip()
                step = factors.answer(challenge["token"], code, request=request)
                if not step.needs_code:
                    return self._verified(request)
                challenge = {"token": step.ephemeral_token, "method": step.method}
                request.session[CHALLENGE_KEY] = challenge
        except InvalidToken:
            # Expired or used up by too many wrong codes: the next page opens another.
            request.session.pop(CHALLENGE_KEY, None)
            error = _("This sign-in attempt expired. Reload the page to get a new code.")
            challenge = {"method": ""}
        except MFAError as exc:
            error = _error_text(exc)
            challenge = request.session.get(CHALLENGE_KEY) or {"method": ""}
        return self._page(
            request, self.mfa_verify_template, method=challenge.get("method"), error=error
        )

    def mfa_setup(self, request: HttpRequest) -> HttpResponse:
        """Activate a first method (when ``ADMIN_MFA_SETUP`` allows it)."""
        if usable_methods(request.user):
            return HttpResponseRedirect(reverse(f"{self.name}:mfa_verify"))
        if not mfa_settings.ADMIN_MFA_SETUP:
            return self._page(request, self.mfa_setup_template, refused=True, status=403)
        choices = list(mfa_settings.methods)
        name = request.session.get(SETUP_KEY)
        context: dict[str, Any] = {"choices": choices, "method": name}
        try:
            if request.method == "POST" and "start" in request.POST:
                name = str(request.POST.get("method", ""))
                if name not in choices:
                    raise MFAError(_("Choose one of the methods offered."))
                result = methods.activate_method(request.user, name, request=request)
                request.session[SETUP_KEY] = name
                context.update(method=name, details=result.details, **result.extra)
            elif request.method == "POST" and name:
                code = str(request.POST.get("code", "")).strip()
                confirmed = methods.confirm_activation(request.user, name, code, request=request)
                request.session.pop(SETUP_KEY, None)
                request.session[VERIFIED_KEY] = str(request.user.pk)
                return self._page(
                    request, self.mfa_setup_template, backup_codes=confirmed.backup_codes
                )
        except MFAError as exc:
            context["error"] = _error_text(exc)
        return self._page(request, self.mfa_setup_template, **context)


class MFAAdminSite(MFAAdminSiteMixin, admin.AdminSite):
    """Django's admin site, with MFA before any page (see :class:`MFAAdminSiteMixin`)."""
