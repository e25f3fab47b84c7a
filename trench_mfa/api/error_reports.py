"""Django's error reports of trench_mfa's endpoints never show a secret, ``DEBUG`` or not.

Django hides what ``sensitive_post_parameters`` and ``sensitive_variables``
mark only while ``DEBUG`` is off (``SafeExceptionReporterFilter.is_active``):
with ``DEBUG = True`` its technical 500 page lists every local variable of
every frame, and the body of a form post. A developer's ``DEBUG`` server
handles real codes, passwords and keys too, and such a page gets pasted into
issues and chats. So every trench_mfa view hands Django, for its own
requests only, a filter that is always active (Django's
``request.exception_reporter_filter``), and marks the request's whole body
and the view's frames as sensitive (:class:`trench_mfa.api.base.MFAView`).

Django takes the names of the nearest ``sensitive_variables`` above a frame
only, so a named one further down (``django.contrib.auth.authenticate``'s
``credentials``) would show again what an outer one hid (the backend's
``password``). This filter hides in each frame every name that any
``sensitive_variables`` above it named, and everything below one that named
none.

The filter is a subclass of the project's ``DEFAULT_EXCEPTION_REPORTER_FILTER``
when that is a :class:`~django.views.debug.SafeExceptionReporterFilter`, so
its own cleansing of settings and ``META`` still applies. The JSON body of a
request is not part of the report (only ``request.POST`` is), and reports of
errors raised outside trench_mfa's views use the project's filter unchanged.
"""

from __future__ import annotations

from collections.abc import ItemsView
from functools import cache
from types import FrameType
from typing import Any

from django.http import HttpRequest
from django.views.debug import (
    SafeExceptionReporterFilter,
    get_default_exception_reporter_filter,
)

#: The name of the function ``sensitive_variables`` wraps around the decorated one.
_WRAPPER = "sensitive_variables_wrapper"
#: What ``sensitive_variables()`` without names records.
_ALL = "__ALL__"


def _is_wrapper(frame: FrameType) -> bool:
    return frame.f_code.co_name == _WRAPPER and _WRAPPER in frame.f_locals


def _hidden_names(frame: FrameType | None) -> str | frozenset[str]:
    """``"__ALL__"``, or the names any ``sensitive_variables`` above ``frame`` named."""
    names: set[str] = set()
    while frame is not None:
        if _is_wrapper(frame):
            declared = getattr(frame.f_locals[_WRAPPER], "sensitive_variables", None)
            if declared == _ALL:
                return _ALL
            names.update(declared or ())
        frame = frame.f_back
    return frozenset(names)


class MFAExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, active whatever ``DEBUG`` says, and strict about frame variables."""

    def is_active(self, request: HttpRequest | None) -> bool:
        """Always: ``DEBUG = True`` pages hide the marked values too."""
        return True

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> ItemsView[str, Any]:
        """The frame's variables, each one any ``sensitive_variables`` above it marks hidden."""
        hidden = _hidden_names(tb_frame)
        cleansed: dict[str, Any] = {}
        for name, value in tb_frame.f_locals.items():
            if hidden == _ALL or name in hidden:
                cleansed[name] = self.cleansed_substitute
            else:
                cleansed[name] = self.cleanse_special_types(request, value)
        if _is_wrapper(tb_frame):
            # The decorated function's arguments, as Django hides them.
            cleansed["func_args"] = cleansed["func_kwargs"] = self.cleansed_substitute
        return cleansed.items()


@cache
def _filter_for(project_filter: type) -> SafeExceptionReporterFilter:
    """One instance per project filter class: ours, on top of it when it is Django's kind."""
    if project_filter is SafeExceptionReporterFilter or not issubclass(
        project_filter, SafeExceptionReporterFilter
    ):
        return MFAExceptionReporterFilter()
    combined = type(
        f"MFA{project_filter.__name__}", (MFAExceptionReporterFilter, project_filter), {}
    )
    instance: SafeExceptionReporterFilter = combined()
    return instance


def protect(request: HttpRequest) -> None:
    """Make Django report errors of ``request`` with :class:`MFAExceptionReporterFilter`."""
    project_filter: type = type(get_default_exception_reporter_filter())
    # Django reads this attribute of the request (get_exception_reporter_filter).
    setattr(request, "exception_reporter_filter", _filter_for(project_filter))  # noqa: B010
