"""``/`` answers with the demo's landing page, and every link on it leads somewhere.

A newcomer who opens http://127.0.0.1:8000/ after ``make run`` gets a page
saying what this is, with working links to the Swagger UI, the schema, the
admin and the README, and the README walk-throughs it names exist.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from django.conf import settings
from django.test import Client
from django.urls import reverse

from testproject.views import WALK_THROUGHS


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hrefs.extend(value for name, value in attrs if name == "href" and value)


def _links(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.hrefs


def test_landing_page_links_the_docs_schema_admin_and_readme(db: None) -> None:
    response = Client().get("/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "trench_mfa" in html and "django-trench" in html
    links = _links(html)
    for name in ("swagger-ui", "schema", "admin:index", "readme"):
        assert reverse(name) in links, (name, links)


def test_every_link_of_the_landing_page_answers(db: None) -> None:
    client = Client()
    for href in _links(client.get("/").content.decode()):
        # The admin index redirects to its login page, which must answer too.
        response = client.get(href, follow=True)
        assert response.status_code == 200, href


def test_the_walk_throughs_it_names_are_sections_of_the_served_readme() -> None:
    readme = Client().get(reverse("readme"))
    assert readme.status_code == 200
    assert readme["Content-Type"].startswith("text/plain")
    text = readme.content.decode()
    assert text == (settings.REPO_ROOT / "README.rst").read_text(encoding="utf-8")
    for title in WALK_THROUGHS:
        # A section title: the line itself, underlined on the next line.
        assert re.search(rf"^{re.escape(title)}\n[~\-=]{{{len(title)}}}$", text, re.M), title
    landing = Client().get("/").content.decode()
    assert all(title in landing for title in WALK_THROUGHS)
