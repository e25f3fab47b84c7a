"""The demo's own pages: the landing page at ``/``, the README, the passkey page."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.views.generic import TemplateView

from testproject.accounts.management.commands import create_demo_user as demo

#: The README sections a newcomer follows against the demo, in order.
WALK_THROUGHS = (
    "Try it with curl",
    "Authenticator app in the demo",
    "Sign up and log in without a password",
)


class LandingView(TemplateView):
    """What this server is, where its API docs are, and how to log in."""

    template_name = "demo/index.html"

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        """The demo's credentials and the README's walk-through titles."""
        return {
            **super().get_context_data(**kwargs),
            "walk_throughs": WALK_THROUGHS,
            "demo_username": demo.USERNAME,
            "demo_password": demo.PASSWORD,
            "admin_username": demo.ADMIN_USERNAME,
            "admin_password": demo.ADMIN_PASSWORD,
        }


class PasskeysView(TemplateView):
    """The passkey demo: static HTML and JavaScript over the REST API (no build step)."""

    template_name = "demo/passkeys.html"

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        """The field login step 1 takes the username in (the user model's)."""
        return {
            **super().get_context_data(**kwargs),
            "username_field": get_user_model().USERNAME_FIELD,
        }


def readme(request: HttpRequest) -> HttpResponse:
    """The repository's README.rst as plain text: the walk-throughs, offline."""
    text = (settings.REPO_ROOT / "README.rst").read_text(encoding="utf-8")
    return HttpResponse(text, content_type="text/plain; charset=utf-8")
