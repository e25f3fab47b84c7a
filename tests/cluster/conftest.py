"""Two app servers sharing PostgreSQL and Redis, started once for the session.

``cluster`` starts a redis-server of its own, an SMTP server, a Twilio-like
SMS gateway and two gunicorn servers of testproject
(``testproject.settings_cluster``) on loopback, all pointed at the test
database. The tests create their users in that database (committed:
``django_db(transaction=True)``) and talk to the servers over HTTP.

The group is marked ``cluster`` and needs PostgreSQL: without
``TEST_DATABASE_URL`` it is skipped (SQLite's test database cannot be shared
by other processes).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings

from tests.cluster import figures, load
from tests.cluster.servers import AppServer, Mailbox, RedisServer, SmsGateway, ports
from tests.support.methods import bound_method
from trench_mfa.state.secrets_at_rest import encrypt_secret

NEEDS_POSTGRES = (
    "cluster: needs PostgreSQL shared by two app servers (set TEST_DATABASE_URL; "
    "make test runs it in the PostgreSQL leg)"
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the ``cluster`` tests, with the reason, when no PostgreSQL is configured."""
    if os.environ.get("TEST_DATABASE_URL"):
        return
    skip = pytest.mark.skip(reason=NEEDS_POSTGRES)
    for item in items:
        if item.get_closest_marker("cluster") is not None:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the requests and answers of every case that ran."""
    if not figures.FIGURES:
        return
    terminalreporter.write_sep("=", "two app servers: requests and answers per case")
    for line in figures.table():
        terminalreporter.write_line(line)


@dataclass
class Cluster:
    """The running deployment: two app servers and what they share or call."""

    servers: list[AppServer]
    redis: RedisServer
    mailbox: Mailbox
    sms: SmsGateway


def _database_url() -> str:
    """The URL of the test database (created by pytest-django) for the servers."""
    from django.db import connection

    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or "5432"
    return f"postgres://{credentials}@{host}:{port}/{quote(db['NAME'], safe='')}"


def _check_prerequisites() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip(NEEDS_POSTGRES)
    if settings.AUTH_USER_MODEL != "accounts.User":
        pytest.skip("cluster: the servers run testproject's default user model only")
    if shutil.which("redis-server") is None:
        pytest.skip("cluster: needs redis-server (the servers' Redis is stopped by a test)")


@pytest.fixture(scope="session")
def cluster(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Redis, SMTP, the SMS gateway and two app servers, for the whole session."""
    _check_prerequisites()
    directory = tmp_path_factory.mktemp("cluster")
    port_a, port_b, redis_port, smtp_port, sms_port = ports(5)
    redis_server = RedisServer(redis_port, directory)
    mailbox = Mailbox(smtp_port)
    sms = SmsGateway(sms_port)
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "DJANGO_SETTINGS_MODULE": "testproject.settings_cluster",
        "TEST_DATABASE_URL": _database_url(),
        "REDIS_URL": redis_server.url,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "CLUSTER_SMS_URL": sms.url,
    }
    servers = [
        AppServer("cluster-a", port_a, env, directory),
        AppServer("cluster-b", port_b, env, directory),
    ]
    try:
        redis_server.start()
        mailbox.start()
        sms.start()
        for server in servers:
            server.launch()
        for server in servers:
            server.wait_ready()
        yield Cluster(servers, redis_server, mailbox, sms)
    finally:
        for server in servers:
            server.signal_stop()
        for server in servers:
            server.wait_stopped()
        sms.stop()
        mailbox.stop()
        redis_server.stop()


@pytest.fixture(autouse=True)
def _fresh_shared_state(request: pytest.FixtureRequest) -> None:
    """Each cluster test starts with empty throttle counts and working services.

    An outage test restores what it stopped; this also covers one that failed
    half-way.
    """
    if request.node.get_closest_marker("cluster") is None:
        return
    deployment: Cluster = request.getfixturevalue("cluster")
    if deployment.redis.process is None:
        deployment.redis.start()
    deployment.redis.client().flushdb()
    if not deployment.mailbox.running:
        deployment.mailbox.start()
    deployment.mailbox.clear()
    deployment.sms.clear()
    deployment.sms.failing = False
    if not deployment.sms.server.is_running():
        deployment.sms.start()


@pytest.fixture
def servers(cluster: Cluster) -> list[AppServer]:
    """The two app servers."""
    return cluster.servers


@pytest.fixture
def mfa_user(user_factory: Callable[..., Any]) -> Callable[..., Any]:
    """A user with one active, primary method: ``mfa_user("name", "email")``.

    The row is written directly (committed): activation through the API is
    tested elsewhere. ``secret``: the app method's base32 seed; ``phone``:
    the user's number for SMS.
    """

    def make(name: str, method: str = "email", *, secret: str = "", phone: str = "") -> Any:
        user = user_factory(username=name, email=f"{name}@example.com", phone_number=phone)
        bound_method(user, method, secret=encrypt_secret(secret) if secret else "", is_primary=True)
        return user

    return make


@pytest.fixture
def signed_in(mfa_user: Callable[..., Any]) -> Callable[..., tuple[Any, str]]:
    """``mfa_user`` plus the user's DRF token key: ``user, key = signed_in("name")``.

    For the tests that call the authenticated endpoints (code requests,
    activations) as the user right away.
    """

    def make(
        name: str, method: str = "email", *, secret: str = "", phone: str = ""
    ) -> tuple[Any, str]:
        user = mfa_user(name, method, secret=secret, phone=phone)
        return user, load.token_key(user)

    return make
