"""Method management URLs: ``path("auth/", include("trench_mfa.urls"))``."""

from __future__ import annotations

from django.urls import path

from trench_mfa.api import devices, identity_views, views

urlpatterns = [
    # Login flows: the hardcode, and identifier verification (see docs/flows.rst).
    # Listed first: "verification/email/confirm/" is the confirmation by code,
    # never a link key.
    path("hardcode/", identity_views.HardcodeView.as_view(), name="mfa-hardcode"),
    path(
        "verification/request/",
        identity_views.VerificationRequestView.as_view(),
        name="mfa-verification-request",
    ),
    path(
        "verification/<str:field>/confirm/",
        identity_views.VerificationConfirmView.as_view(),
        name="mfa-verification-confirm",
    ),
    path(
        "verification/email/<str:key>/",
        identity_views.VerificationLinkView.as_view(),
        name="mfa-verification-link",
    ),
    # Remembered devices (see docs/devices.rst); listed before "<str:method>/...".
    path("devices/", devices.DeviceListView.as_view(), name="mfa-devices"),
    path("devices/<int:device_id>/", devices.DeviceDetailView.as_view(), name="mfa-device"),
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
