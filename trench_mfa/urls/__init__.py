"""Method management URLs: ``path("auth/", include("trench_mfa.urls"))``."""

from __future__ import annotations

from django.urls import path

from trench_mfa.api import views

urlpatterns = [
    path("<str:method>/activate/", views.MFAMethodActivationView.as_view(), name="mfa-activate"),
    path(
        "<str:method>/activate/confirm/",
        views.MFAMethodConfirmActivationView.as_view(),
        name="mfa-activate-confirm",
    ),
    path(
        "<str:method>/deactivate/",
        views.MFAMethodDeactivationView.as_view(),
        name="mfa-deactivate",
    ),
    path(
        "<str:method>/codes/regenerate/",
        views.MFAMethodBackupCodesRegenerationView.as_view(),
        name="mfa-regenerate-codes",
    ),
    path("code/request/", views.MFAMethodRequestCodeView.as_view(), name="mfa-request-code"),
    path("mfa/config/", views.MFAConfigView.as_view(), name="mfa-config-info"),
    path(
        "mfa/user-active-methods/",
        views.MFAListActiveUserMethodsView.as_view(),
        name="mfa-list-user-active-methods",
    ),
    path(
        "mfa/change-primary-method/",
        views.MFAPrimaryMethodChangeView.as_view(),
        name="mfa-change-primary-method",
    ),
]
