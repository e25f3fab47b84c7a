"""A queued code is written in the language of the request that stored it."""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import translation
from rest_framework.test import APIClient

from tests.dispatch.conftest import EagerQueue

pytestmark = pytest.mark.django_db


def test_the_worker_writes_in_the_language_of_the_request(
    eager: EagerQueue, api_client: APIClient
) -> None:
    with eager.hold() as callbacks:
        response = api_client.post("/auth/email/activate/", HTTP_ACCEPT_LANGUAGE="de")
    assert response.json() == {"details": "Eine E-Mail mit dem MFA-Code wurde gesendet."}
    # A worker has no request: whatever was active there is gone.
    translation.deactivate()
    for callback in callbacks:
        callback()
    (message,) = mail.outbox
    assert message.subject == "Ihr Bestätigungscode"
    assert "Ihr Bestätigungscode lautet:" in message.body
    assert translation.get_language() == "en-us"  # the task changed nothing here
