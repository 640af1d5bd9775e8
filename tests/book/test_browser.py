"""The built book in headless Chromium: synced, remembered, linkable, keyboard tabs."""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from bs4 import BeautifulSoup

from frametabs.frameworks import DEFAULT_FRAMEWORK, FRAMEWORKS, LABELS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHAPTER = "chapters/custom-layers.html"
OTHER_PAGE = "chapters/solutions.html"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
GROUPS = ".sd-tab-set:has(> label[data-sync-group='framework'])"
# For each framework tab group: its tabs, the checked one, the visible panels' tabs.
STATE_JS = """
(selector) => Array.from(document.querySelectorAll(selector)).map((set) => {
  const labels = Array.from(set.querySelectorAll(":scope > label.sd-tab-label"));
  const checked = labels.filter((label) => document.getElementById(label.htmlFor).checked);
  const shown = labels.filter((label) => {
    const panel = label.nextElementSibling;
    return panel.offsetParent !== null && panel.getBoundingClientRect().height > 0;
  });
  return {
    tabs: labels.map((label) => [label.dataset.syncId, label.textContent.trim()]),
    checked: checked.map((label) => label.dataset.syncId),
    shown: shown.map((label) => label.dataset.syncId),
  };
})
"""

# For a tab group: the role and aria-selected of each tab its tablist owns, each panel's role.
ARIA_JS = """
(set) => {
  const byId = (id) => document.getElementById(id);
  const list = set.querySelector("[role=tablist]");
  const owned = list.getAttribute("aria-owns").split(" ").map(byId);
  return {
    orientation: list.getAttribute("aria-orientation"),
    owned: owned.map((tab) => [tab.getAttribute("role"), tab.getAttribute("aria-selected")]),
    panels: owned.map((tab) => byId(tab.getAttribute("aria-controls")).getAttribute("role")),
  };
}
"""


class QuietHandler(SimpleHTTPRequestHandler):
    """Serve the book's files without logging each request."""

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def site(built_book):
    """The built book served on 127.0.0.1 (a free port) by a local thread."""
    handler = functools.partial(QuietHandler, directory=str(built_book))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="module")
def browser(chromium_executable):
    """Headless Chromium with a fresh profile; nothing reaches the network but 127.0.0.1."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, site):
    """A page in a fresh context (empty localStorage) that may only load the local book."""
    context = browser.new_context()
    context.route("**/*", _local_only(site))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"{error.message}\n{error.stack}"))
    yield page
    context.close()
    # Only the tab scripts are ours to answer for (the theme's inline scripts are not).
    assert [e for e in errors if "frametabs.js" in e or "design-tabs.js" in e] == []


def _local_only(site: str):
    def handle(route):
        if route.request.url.startswith(site):
            route.continue_()
        else:
            route.abort()

    return handle


def groups(page) -> list[dict]:
    """The state of every framework tab group on the page."""
    return page.evaluate(STATE_JS, GROUPS)


def assert_all_show(page, framework: str) -> None:
    """Every group has the framework's tab checked and only its panel visible."""
    state = groups(page)
    assert state, "no framework tab group on the page"
    assert [(g["checked"], g["shown"]) for g in state] == [([framework], [framework])] * len(state)


def click_tab(page, framework: str, group: int = 0) -> None:
    page.locator(GROUPS).nth(group).locator(f"label[data-sync-id='{framework}']").click()


def test_every_group_has_three_tabs_pytorch_first(page, site):
    page.goto(f"{site}/{CHAPTER}")
    state = groups(page)
    assert len(state) >= 2
    for group in state:
        assert group["tabs"] == [[fw, LABELS[fw]] for fw in FRAMEWORKS]
    assert_all_show(page, DEFAULT_FRAMEWORK)


def test_choice_switches_every_group_and_is_remembered(page, site, tmp_path):
    page.goto(f"{site}/{CHAPTER}")
    click_tab(page, "tensorflow", group=len(groups(page)) - 1)
    assert_all_show(page, "tensorflow")
    page.screenshot(path=str(tmp_path / "tensorflow.png"), full_page=True)
    assert (tmp_path / "tensorflow.png").stat().st_size > 0

    page.reload()
    assert_all_show(page, "tensorflow")

    page.goto(f"{site}/{OTHER_PAGE}")
    assert_all_show(page, "tensorflow")


def test_query_parameter_selects_and_is_remembered(page, site):
    page.goto(f"{site}/{CHAPTER}?tab=mxnet")
    assert_all_show(page, "mxnet")
    page.goto(f"{site}/{OTHER_PAGE}")
    assert_all_show(page, "mxnet")


def test_unknown_query_value_keeps_the_default(page, site):
    page.goto(f"{site}/{CHAPTER}?tab=jax")
    assert_all_show(page, DEFAULT_FRAMEWORK)


def test_keyboard_focuses_and_selects_tabs(page, site):
    page.goto(f"{site}/{CHAPTER}")
    # Start sequential focus navigation just before the first tab group, as a click does.
    page.locator(GROUPS).first.evaluate(
        """(set) => {
          const start = document.createElement("p");
          start.tabIndex = -1;
          set.before(start);
          start.focus();
        }"""
    )
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => [document.activeElement.getAttribute('role'), document.activeElement.dataset.syncId]"
    )
    assert focused == ["tab", DEFAULT_FRAMEWORK]

    # The tablist is horizontal: Up and Down leave the tabs alone (they scroll the page).
    for key in ("ArrowDown", "ArrowUp"):
        page.keyboard.press(key)
        assert_all_show(page, DEFAULT_FRAMEWORK)
    page.keyboard.press("ArrowRight")
    assert_all_show(page, FRAMEWORKS[FRAMEWORKS.index(DEFAULT_FRAMEWORK) + 1])
    page.keyboard.press("Home")
    assert_all_show(page, FRAMEWORKS[0])
    page.keyboard.press("ArrowLeft")
    assert_all_show(page, FRAMEWORKS[-1])

    first = page.locator(GROUPS).first
    first.locator(f"label[data-sync-id='{DEFAULT_FRAMEWORK}']").focus()
    page.keyboard.press("Enter")
    assert_all_show(page, DEFAULT_FRAMEWORK)
    first.locator(f"label[data-sync-id='{FRAMEWORKS[0]}']").focus()
    page.keyboard.press(" ")
    assert_all_show(page, FRAMEWORKS[0])


def test_tabs_have_aria_roles(page, site):
    page.goto(f"{site}/{CHAPTER}")
    roles = page.locator(GROUPS).first.evaluate(ARIA_JS)
    assert roles["orientation"] == "horizontal"
    assert roles["owned"] == [["tab", str(fw == DEFAULT_FRAMEWORK).lower()] for fw in FRAMEWORKS]
    assert roles["panels"] == ["tabpanel"] * len(FRAMEWORKS)


def test_copy_buttons_speak_portuguese(page, site):
    page.goto(f"{site}/{CHAPTER}")
    button = page.locator("button.copybtn").first
    button.wait_for(state="attached")
    assert button.get_attribute("data-tooltip") == "Copiar"
    assert button.locator("svg title").text_content() == "Copiar para a área de transferência"


@pytest.mark.parametrize("path", [CHAPTER, OTHER_PAGE, "index.html", "search.html?q=camada"])
def test_pages_stay_portuguese_once_the_scripts_ran(page, site, english, path):
    """What the scripts add (copy buttons, tab lists, search results) is Portuguese too."""
    page.goto(f"{site}/{path}", wait_until="networkidle")
    if path.startswith("search.html"):
        page.wait_for_selector("#search-results p.search-summary", timeout=15000)
    elif page.locator("div.highlight pre").count():
        page.locator("button.copybtn").first.wait_for(state="attached")
    dom = BeautifulSoup(page.content(), "html.parser")
    found = [
        (where, text, words)
        for where, text in english.reader_strings(dom)
        if (words := english.english_in(text))
    ]
    assert found == []


def test_without_javascript_every_version_is_readable(browser, site):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{site}/{CHAPTER}")
        for framework in FRAMEWORKS:
            click_tab(page, framework)
            assert groups(page)[0]["shown"] == [framework]
    finally:
        context.close()


def test_math_renders_from_the_book_itself_with_no_outside_request(browser, site):
    """MathJax is served by the book (no CDN): formulas render and nothing leaves 127.0.0.1."""
    context = browser.new_context()
    outside: list[str] = []

    def handle(route):
        if route.request.url.startswith(site):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", handle)
    page = context.new_page()
    try:
        for name in ("custom-layers", "exercises", "solutions"):
            page.goto(f"{site}/chapters/{name}.html", wait_until="networkidle")
            page.wait_for_selector("mjx-container", timeout=15000)
            assert page.locator("mjx-container").count() >= 2, name
            assert page.locator("mjx-merror").count() == 0, f"a formula fails to render on {name}"
    finally:
        context.close()
    assert outside == []
