"""The Swagger UI works without network: every file it loads comes from this server.

The page served at ``/api/docs/`` references no other host (no CDN, no
online validator), and each static file it references is found by Django's
staticfiles finders (drf-spectacular-sidecar ships them) and served.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.views import serve
from django.http import FileResponse
from django.test import Client, RequestFactory
from django.urls import reverse

#: Any absolute or protocol-relative URL, in attributes and inline scripts alike.
_OFF_SITE = re.compile(r"(?:https?:)?//[A-Za-z0-9.-]+")


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls.extend(value for name, value in attrs if name in {"src", "href"} and value)


def _swagger_page() -> str:
    response = Client().get(reverse("swagger-ui"))
    assert response.status_code == 200
    return response.content.decode()


def _assets(html: str) -> list[str]:
    parser = _Assets()
    parser.feed(html)
    return parser.urls


def test_the_swagger_page_names_no_other_host() -> None:
    html = _swagger_page()
    assert _OFF_SITE.findall(html) == []
    # The script loads the schema from this server.
    assert f'url: "{reverse("schema")}"' in html


def test_every_asset_of_the_swagger_page_is_a_local_static_file() -> None:
    assets = _assets(_swagger_page())
    # The stylesheet, the two scripts of Swagger UI and the favicon.
    assert len(assets) == 4, assets
    static_url = "/" + settings.STATIC_URL.strip("/") + "/"
    for url in assets:
        assert url.startswith(static_url), url
        found = finders.find(url.removeprefix(static_url))
        assert isinstance(found, str), url
        assert Path(found).stat().st_size > 0, url


def test_every_asset_of_the_swagger_page_is_served() -> None:
    # What runserver does for /static/ under DEBUG (staticfiles' serve view).
    static_url = "/" + settings.STATIC_URL.strip("/") + "/"
    for url in _assets(_swagger_page()):
        response = serve(RequestFactory().get(url), url.removeprefix(static_url), insecure=True)
        assert isinstance(response, FileResponse), url
        assert response.status_code == 200, url
        assert response.getvalue()
        # close() would also fire request_finished (a database round); the file is enough.
        if response.file_to_stream is not None:
            response.file_to_stream.close()


def test_the_schema_it_loads_is_served() -> None:
    response = Client().get(reverse("schema"))
    assert response.status_code == 200
    assert b"openapi:" in response.content
