"""SMS through Amazon SNS ``Publish`` with the official ``boto3`` client.

Settings: ``AWS_REGION`` (required), ``AWS_ACCESS_KEY`` and ``AWS_SECRET_KEY``
(both optional: without them boto3's default credential chain applies, e.g.
an instance role), ``AWS_SMS_TYPE`` (``Transactional`` by default, the SNS
class meant for one-time codes), ``AWS_SENDER_ID`` (optional).
``ENDPOINT_URL`` is boto3's ``endpoint_url`` (VPC endpoints, FIPS, stubs).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from trench_mfa.backends.base import DispatchError
from trench_mfa.backends.sms import SMSMessageDispatcher


@lru_cache(maxsize=16)
def _sns_client(
    region: str,
    access_key: str | None,
    secret_key: str | None,
    endpoint_url: str | None,
    timeout: float,
) -> Any:
    # Building a client loads the service model (tens of milliseconds), and
    # botocore clients are thread-safe, so one per configuration is kept.
    # Retries are off: failover between providers is the retry, and a single
    # attempt keeps the whole send within TIMEOUT.
    session = boto3.session.Session()
    return session.client(
        "sns",
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        endpoint_url=endpoint_url,
        config=Config(
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"total_max_attempts": 1},
        ),
    )


class AWSMessageDispatcher(SMSMessageDispatcher):
    """Sends the code with ``sns.publish(PhoneNumber=..., Message=...)``."""

    library_loggers = ("boto3", "botocore", "s3transfer")

    def get_client(self) -> Any:
        """The SNS client for this method's region, credentials and endpoint."""
        access_key = self.option("AWS_ACCESS_KEY")
        secret_key = self.option("AWS_SECRET_KEY")
        if bool(access_key) != bool(secret_key):
            raise DispatchError("AWS_ACCESS_KEY and AWS_SECRET_KEY must be set together")
        return _sns_client(
            self.require("AWS_REGION"),
            access_key,
            secret_key,
            self.endpoint_url,
            self.timeout,
        )

    def message_attributes(self) -> dict[str, dict[str, str]]:
        """The ``AWS.SNS.SMS.*`` attributes of the message."""
        attributes = {
            "AWS.SNS.SMS.SMSType": {
                "DataType": "String",
                "StringValue": str(self.option("AWS_SMS_TYPE", "Transactional")),
            }
        }
        sender_id = self.option("AWS_SENDER_ID")
        if sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": sender_id}
        return attributes

    def send_sms(self, recipient: str, body: str) -> None:
        """One ``Publish`` call to the phone number."""
        client = self.get_client()
        try:
            client.publish(
                PhoneNumber=recipient, Message=body, MessageAttributes=self.message_attributes()
            )
        except ClientError as exc:
            error = exc.response.get("Error", {}).get("Code")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            raise DispatchError(f"SNS answered HTTP {status} ({error})") from exc
        except BotoCoreError as exc:
            raise DispatchError(f"SNS request failed ({type(exc).__name__})") from exc
