"""After logging in or switching the language, the reader goes back to a page of this
site, never to another origin, whatever ``next`` says (read as a browser reads it)."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest

from journey.pages.common import safe_next
from tests.conftest import PASSWORD

LEAVING = ["//evil.example/x", "/\t/evil.example/x", "/\n/evil.example", "/\\evil.example",
           "\\\\evil.example", "https://evil.example/", "javascript:alert(1)",
           " //evil.example", "/\r\nX-Evil: 1", "/\x00/evil", "http:/evil.example",
           "/" + "a" * 3000]


@pytest.mark.parametrize("target", LEAVING)
def test_a_target_off_the_site_falls_back(target):
    assert safe_next(target, "/home") == "/home"


@pytest.mark.parametrize("target", ["/my/journeys", "/catalogue?lang=nb&page=2",
                                    "/catalogue/offers/3#book", "/søk"])
def test_a_path_of_this_site_is_kept(target):
    assert safe_next(target, "/home") == target


@pytest.mark.parametrize("target", LEAVING[:-1])
def test_logging_in_never_redirects_off_the_site(client, make, target):
    user = make.user()
    response = client.post(f"/login?next={quote(target, safe='')}",
                           data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "\r" not in location and "\n" not in location and "X-Evil" not in response.headers
    parts = urlsplit(location)
    assert parts.netloc in ("", "localhost") and not location.startswith("//")


def test_the_language_switch_goes_back_only_on_the_site(client):
    back = client.post("/preferences", data={"lang": "nb", "next": "/catalogue?lang=nb"})
    assert back.headers["Location"].endswith("/catalogue?lang=nb")
    away = client.post("/preferences", data={"lang": "nb", "next": "/\t/evil.example/x"})
    assert urlsplit(away.headers["Location"]).netloc in ("", "localhost")
