"""The Django example under concurrent requests: agents signing in at once and commenting
on one ticket from several threads against the example's SQLite file, while delivery
writes its acknowledgements beside them. Every request succeeds and every comment is
kept (the example's transactions take SQLite's write lock when they begin; see
``docs/django.md``)."""

from __future__ import annotations

import http.cookiejar
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.portals import Portal, django_portal, django_server

THREADS = 6
COMMENTS = 8
_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[Portal]:
    with django_server(tmp_path) as served, django_portal(*served) as found:
        yield found


def signed_in_agent(base_url: str) -> urllib.request.OpenerDirector:
    browser = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    form = browser.open(f"{base_url}/login").read().decode()
    token = _TOKEN.search(form)
    assert token is not None
    fields = {"username": "tom@leadtime.example", "password": "demo"}
    browser.open(
        f"{base_url}/login",
        urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": token.group(1)}).encode(),
    )
    return browser


def test_agents_signing_in_and_commenting_at_once_all_succeed(portal: Portal) -> None:
    tom = portal.world.seed.tom.actor
    ticket = portal.desk.list_tickets(tom, limit=1).items[0].id
    answers: Counter[int] = Counter()
    failures: list[str] = []

    def agent(k: int) -> None:
        try:
            browser = signed_in_agent(portal.base_url)
            page = browser.open(f"{portal.base_url}/tickets/{ticket}").read().decode()
            token = _TOKEN.search(page)
            assert token is not None
            for i in range(COMMENTS):
                form = {"body": f"note {k}.{i}", "visibility": "internal"}
                data = urllib.parse.urlencode({**form, "csrfmiddlewaretoken": token.group(1)})
                sent = browser.open(f"{portal.base_url}/tickets/{ticket}/comments", data.encode())
                answers[sent.status] += 1
                answers[browser.open(f"{portal.base_url}/tickets").status] += 1
        except urllib.error.HTTPError as error:
            failures.append(f"{error.code} {error.url}")

    threads = [threading.Thread(target=agent, args=(k,)) for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert failures == []
    assert answers == {200: 2 * THREADS * COMMENTS}
    notes = {e.comment.body for e in portal.desk.timeline(tom, ticket) if e.comment is not None}
    assert {f"note {k}.{i}" for k in range(THREADS) for i in range(COMMENTS)} <= notes
