"""What each SMS provider's loopback stub expects and answers (SMS and binding tests).

Each :class:`Provider` knows its method settings (pointing the official
client at a loopback stub through ``ENDPOINT_URL``), the exact request the
client must make, and the provider's success and error answers.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from werkzeug import Request

if TYPE_CHECKING:
    from pytest_httpserver import HTTPServer

#: The number of the SMS tests' user; the expected requests name it.
PHONE = "+48600100200"
TWILIO_SID = "AC0123456789abcdef0123456789abcdef"
TWILIO_TOKEN = "twilio-auth-token-d3adb33f"
TWILIO_FROM = "+15005550006"
SMSAPI_TOKEN = "smsapi-oauth-token-5ecret"
AWS_KEY = "AKIDTRENCHEXAMPLE01"
AWS_SECRET = "aws-secret-key-w1thout-any-meaning"
VONAGE_KEY = "vonagekey1"
VONAGE_SECRET = "vonage-secret-0xfeed"
SENDER = "TrenchMFA"


def sms_text(code: str, minutes: int = 5) -> str:
    """The default ``SMS_BODY`` rendered."""
    return f"Your verification code is {code}. It expires in {minutes} minutes."


def basic(user: str, password: str) -> str:
    """An HTTP Basic ``Authorization`` value."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@dataclass(frozen=True)
class Answer:
    """A stub response."""

    status: int
    body: str
    content_type: str = "application/json"


def json_answer(status: int, payload: Any) -> Answer:
    """A stub response with ``payload`` as its JSON body."""
    return Answer(status, json.dumps(payload))


@dataclass(frozen=True)
class Provider:
    """One provider: settings, expected request, answers, secrets."""

    name: str
    path: str
    tls: bool
    #: The method's settings besides ``ENDPOINT_URL``.
    options: dict[str, Any]
    #: Checks of a request's ``Authorization`` header and form, given the text.
    check_auth_and_form: Callable[[Request, str], None]
    ok: Answer
    client_error: Answer
    server_error: Answer
    secrets: tuple[str, ...]
    #: Form fields of the request that carry the number and the text.
    to_field: str
    text_field: str

    def __repr__(self) -> str:
        return self.name

    def settings(self, url: str) -> dict[str, Any]:
        """The method's settings, its official client pointed at the stub at ``url``."""
        return {**self.options, "ENDPOINT_URL": url}

    def expect(self, server: HTTPServer, kind: str = "ok") -> Answer:
        """Have the stub ``server`` answer this provider's send with its ``kind`` answer.

        ``kind`` is ``ok``, ``client_error`` or ``server_error``; the answer is returned.
        """
        answer: Answer = getattr(self, kind)
        server.expect_request(self.path, method="POST").respond_with_data(
            answer.body, status=answer.status, content_type=answer.content_type
        )
        return answer

    def check(self, request: Request, text: str) -> None:
        """Assert that ``request`` is the one the official client makes to send ``text``."""
        assert request.method == "POST"
        assert request.path == self.path
        self.check_auth_and_form(request, text)

    def recipient(self, request: Request) -> str:
        """The number a stub request was sent to, in E.164."""
        number = request.form[self.to_field]
        return number if number.startswith("+") else f"+{number}"

    def code(self, request: Request) -> str:
        """The 6-digit code in the text of a stub request."""
        match = re.search(r"\b([0-9]{6})\b", request.form[self.text_field])
        assert match, request.form
        return match.group(1)


def _check_twilio(request: Request, text: str) -> None:
    assert request.headers["Authorization"] == basic(TWILIO_SID, TWILIO_TOKEN)
    assert request.form.to_dict() == {"To": PHONE, "From": TWILIO_FROM, "Body": text}


def _check_smsapi(request: Request, text: str) -> None:
    assert request.headers["Authorization"] == f"Bearer {SMSAPI_TOKEN}"
    assert request.form.to_dict() == {
        "to": PHONE.lstrip("+"),
        "message": text,
        "from": SENDER,
        "format": "json",
    }


def _check_aws(request: Request, text: str) -> None:
    auth = request.headers["Authorization"]
    assert auth.startswith(f"AWS4-HMAC-SHA256 Credential={AWS_KEY}/")
    assert "/eu-central-1/sns/aws4_request" in auth
    assert request.form.to_dict() == {
        "Action": "Publish",
        "Version": "2010-03-31",
        "PhoneNumber": PHONE,
        "Message": text,
        "MessageAttributes.entry.1.Name": "AWS.SNS.SMS.SMSType",
        "MessageAttributes.entry.1.Value.DataType": "String",
        "MessageAttributes.entry.1.Value.StringValue": "Transactional",
    }


def _check_vonage(request: Request, text: str) -> None:
    assert request.headers["Authorization"] == basic(VONAGE_KEY, VONAGE_SECRET)
    assert request.form.to_dict() == {"from": SENDER, "to": PHONE.lstrip("+"), "text": text}


def _sns_error(code: str, sender: str) -> str:
    return (
        '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
        f"<Error><Type>{sender}</Type><Code>{code}</Code><Message>nope</Message></Error>"
        "<RequestId>5d2bdf62-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
    )


TWILIO = Provider(
    name="sms_twilio",
    path=f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json",
    tls=False,
    options={
        "TWILIO_ACCOUNT_SID": TWILIO_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_VERIFIED_FROM_NUMBER": TWILIO_FROM,
    },
    check_auth_and_form=_check_twilio,
    ok=json_answer(201, {"sid": "SM" + "0" * 32, "status": "queued", "to": PHONE}),
    client_error=json_answer(
        400, {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400}
    ),
    server_error=json_answer(500, {"code": 20500, "message": "Internal", "status": 500}),
    secrets=(TWILIO_TOKEN, TWILIO_SID),
    to_field="To",
    text_field="Body",
)

SMSAPI = Provider(
    name="sms_api",
    path="/sms.do",
    tls=False,
    options={
        "SMSAPI_ACCESS_TOKEN": SMSAPI_TOKEN,
        "SMSAPI_FROM_NUMBER": SENDER,
    },
    check_auth_and_form=_check_smsapi,
    ok=json_answer(
        200,
        {
            "count": 1,
            "list": [
                {
                    "id": "5E6F0000",
                    "points": 0.16,
                    "number": PHONE.lstrip("+"),
                    "date_sent": 1767614400,
                    "submitted_number": PHONE.lstrip("+"),
                    "status": "QUEUE",
                    "error": None,
                }
            ],
        },
    ),
    client_error=json_answer(401, {"error": 101, "message": "Authorization failed"}),
    server_error=Answer(502, "<html>Bad gateway</html>", "text/html"),
    secrets=(SMSAPI_TOKEN,),
    to_field="to",
    text_field="message",
)

AWS = Provider(
    name="sms_aws",
    path="/",
    tls=False,
    options={
        "AWS_ACCESS_KEY": AWS_KEY,
        "AWS_SECRET_KEY": AWS_SECRET,
        "AWS_REGION": "eu-central-1",
    },
    check_auth_and_form=_check_aws,
    ok=Answer(
        200,
        '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
        "<PublishResult><MessageId>94f20ce6-0000-0000-0000-000000000000</MessageId>"
        "</PublishResult><ResponseMetadata><RequestId>f187a3c1-0000-0000-0000-000000000000"
        "</RequestId></ResponseMetadata></PublishResponse>",
        "text/xml",
    ),
    client_error=Answer(400, _sns_error("InvalidParameter", "Sender"), "text/xml"),
    server_error=Answer(500, _sns_error("InternalError", "Receiver"), "text/xml"),
    secrets=(AWS_SECRET,),
    to_field="PhoneNumber",
    text_field="Message",
)

VONAGE = Provider(
    name="sms_vonage",
    path="/sms/json",
    tls=True,
    options={
        "VONAGE_API_KEY": VONAGE_KEY,
        "VONAGE_API_SECRET": VONAGE_SECRET,
        "VONAGE_FROM_NUMBER": SENDER,
    },
    check_auth_and_form=_check_vonage,
    ok=json_answer(
        200,
        {
            "message-count": "1",
            "messages": [
                {
                    "to": PHONE.lstrip("+"),
                    "message-id": "0A0000000123ABCD1",
                    "status": "0",
                    "remaining-balance": "3.14",
                    "message-price": "0.03",
                    "network": "26002",
                }
            ],
        },
    ),
    client_error=json_answer(401, {"type": "unauthorized", "title": "Unauthorized"}),
    server_error=json_answer(503, {"title": "Service Unavailable"}),
    secrets=(VONAGE_SECRET,),
    to_field="to",
    text_field="text",
)

PROVIDERS = (TWILIO, SMSAPI, AWS, VONAGE)
