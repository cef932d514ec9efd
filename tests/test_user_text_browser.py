"""Text the lead types (a story's title) reaches board members as the
characters typed: no image fetched, no link, no colour, no HTML, in real
Chromium, where Streamlit's Markdown would otherwise interpret it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from browser_support import WAIT, idle, sign_in
from conftest import Server, seed_small, start_streamlit
from playwright.sync_api import Page, expect
from sqlmodel import Session

from models.db import get_engine
from partnership import publication, stories, themes

pytestmark = pytest.mark.browser

BEACON = "story-beacon"


@pytest.fixture(scope="module")
def typed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, list[str], int]]:
    tmp = tmp_path_factory.mktemp("typed")
    db = f"sqlite:///{tmp / 'typed.db'}"
    seed_small(db, 200, 5)
    running = start_streamlit(db, tmp / "streamlit.log")
    port = running.url.rsplit(":", 1)[1]
    # The beacon points at this very server, so a fetch would succeed and be seen.
    titles = [
        f"![b](http://127.0.0.1:{port}/_stcore/health?{BEACON}) :red[RED] <b>x</b>",
        "[phish](javascript:alert(1)) <img src=x onerror=alert(1)> <script>1</script>",
    ]
    steps = stories.check_steps([{"view": "overview.overview"}])
    with Session(get_engine(db)) as session:
        first = stories.save_story(session, titles[0], True, steps, "lead")
        for title in titles[1:]:
            stories.save_story(session, title, True, steps, "lead")
        # The same payloads as the project lead's commentary on Theme 1.
        themes.save_commentary(session, 1, "2026-Q3", "\n\n".join(titles), "lead")
        session.commit()
    # The board reads commentary as published, as the lead would publish it after writing.
    publication.build(get_engine(db), "lead", "lead")
    yield running, titles, first.id
    running.proc.terminate()
    running.proc.wait(timeout=20)


def test_a_story_title_is_shown_as_typed_and_fetches_nothing(
    page: Page, typed_server: tuple[Server, list[str], int]
) -> None:
    server, titles, story_id = typed_server
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.set_default_timeout(WAIT)
    sign_in(page, server, "board")
    page.goto(server.url + "/stories")
    idle(page)
    main = page.locator('[data-testid="stMain"]')
    expect(main.get_by_text("phish").first).to_be_visible(timeout=WAIT)
    # Every character as typed (an invisible word joiner keeps bare addresses from becoming links).
    shown = main.inner_text().replace("\u2060", "")
    for title in titles:
        assert title in shown
    assert main.locator("img").count() == 0
    links = main.locator(f'a[href^="javascript"], a[href*="{BEACON}"]')
    assert links.count() == 0, [links.nth(i).evaluate("e => e.outerHTML") for i in range(links.count())]
    assert main.locator("b", has_text=re.compile("^x$")).count() == 0
    # Presenting a story puts its title in the header the audience sees.
    page.goto(f"{server.url}/?present=1&story={story_id}&step=1")
    idle(page)
    expect(page.get_by_text(re.compile("step 1 of 1")).first).to_be_visible(timeout=WAIT)
    header = page.locator('[data-testid="stMain"]').inner_text().replace("\u2060", "")
    assert titles[0] in header, header[:300]
    assert page.locator('[data-testid="stMain"] img').count() == 0
    assert not [url for url in requested if BEACON in url], "a title made the browser fetch its image"


def test_commentary_is_shown_as_typed_and_fetches_nothing(
    page: Page, typed_server: tuple[Server, list[str], int]
) -> None:
    server, titles, _story = typed_server
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.set_default_timeout(WAIT)
    sign_in(page, server, "board")
    page.goto(server.url + "/themes")
    idle(page)
    page.get_by_role("tab", name="Theme 1", exact=True).click()
    main = page.locator('[data-testid="stMain"]')
    expect(main.get_by_text("Commentary from the project lead").first).to_be_visible(timeout=WAIT)
    expect(main.get_by_text("phish").first).to_be_visible(timeout=WAIT)
    shown = main.inner_text().replace("\u2060", "")
    for title in titles:
        assert title in shown
    assert main.locator("img").count() == 0
    assert main.locator(f'a[href^="javascript"], a[href*="{BEACON}"]').count() == 0
    assert main.locator("b", has_text=re.compile("^x$")).count() == 0
    assert not [url for url in requested if BEACON in url], "commentary made the browser fetch its image"
