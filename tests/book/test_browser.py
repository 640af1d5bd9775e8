"""The built book in headless Chromium: synced, remembered, linkable, keyboard tabs; and
every page clean (no console error, no missing file), light and in Portuguese."""

from __future__ import annotations

import re
import time

import pytest
from bs4 import BeautifulSoup

from frametabs.frameworks import DEFAULT_FRAMEWORK, FRAMEWORKS, LABELS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHAPTER = "chapters/custom-layers.html"
OTHER_PAGE = "chapters/solutions.html"
EXERCISES = "chapters/exercises.html"
SOLUTIONS = "chapters/solutions.html"
# Every page the build writes (tests/book/test_book_html.py checks the list is complete).
PAGES = ["index.html", CHAPTER, EXERCISES, OTHER_PAGE, "search.html?q=camada", "genindex.html"]
# The pages with the book's sidebar and nothing else to search with.
CONTENT_PAGES = ["index.html", CHAPTER, EXERCISES, OTHER_PAGE, "genindex.html"]
DESKTOP = {"width": 1280, "height": 800}
# The section page's first load: 3.8 MB in 39 requests while the theme's fontawesome.js
# (1.49 MB) was on every page; about 2.3 MB in 36 since.
FIRST_LOAD_BUDGET = 2_600_000
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


@pytest.fixture(scope="module")
def served() -> list[tuple[str, int]]:
    """(path, status) of every request the book's server answered, in order."""
    return []


@pytest.fixture(scope="module")
def site(built_book, served, book_server):
    """The built book served on 127.0.0.1 (a free port) by a local thread."""
    with book_server(built_book, served) as address:
        yield address


def watch_errors(page) -> list[str]:
    """The page's uncaught exceptions and console errors, as they come."""
    errors: list[str] = []

    def console(message):
        if message.type == "error":
            errors.append(f"console: {message.text} ({message.location.get('url')})")

    page.on("pageerror", lambda error: errors.append(f"{error.message}\n{error.stack}"))
    page.on("console", console)
    return errors


@pytest.fixture
def page(browser, site):
    """A page in a fresh context (empty localStorage) that may only load the local book.

    Any uncaught exception or console error, the theme's scripts' included, fails the test.
    """
    context = browser.new_context()
    context.route("**/*", _local_only(site))
    page = context.new_page()
    errors = watch_errors(page)
    yield page
    context.close()
    assert errors == []


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


@pytest.mark.parametrize("path", PAGES)
def test_every_page_loads_without_errors_or_missing_files(browser, site, served, path):
    """No exception, no console error, no 404: the favicon included.

    The context intercepts nothing: Chromium leaves out its own ``/favicon.ico`` request
    while Playwright routes requests.
    """
    context = browser.new_context()
    page = context.new_page()
    errors = watch_errors(page)
    outside: list[str] = []
    page.on("request", lambda request: request.url.startswith(site) or outside.append(request.url))
    start = len(served)
    try:
        page.goto(f"{site}/{path}", wait_until="networkidle")
        # Chromium asks for the tab's icon by itself, after the load: wait for that request.
        deadline = time.monotonic() + 10
        while not any("favicon" in p for p, _ in served[start:]) and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        icon = page.evaluate(
            "() => document.querySelector('link[rel~=icon]')?.getAttribute('href')"
            " && new URL(document.querySelector('link[rel~=icon]').href).pathname"
        )
    finally:
        context.close()
    assert errors == []
    assert outside == []
    assert [(p, status) for p, status in served[start:] if status >= 400] == []
    assert [p for p, _ in served[start:] if "favicon" in p] == [icon]


ICONS_JS = """
async () => {
  await document.fonts.ready;
  const unquote = (family) => family.replace(/["']/g, "").trim();
  const loaded = new Set(Array.from(document.fonts)
    .filter((face) => face.status === "loaded")
    .map((face) => `${unquote(face.family)} ${face.weight}`));
  return Array.from(document.querySelectorAll("[class*='fa-']"))
    .filter((icon) => icon.checkVisibility({visibilityProperty: true, opacityProperty: true}))
    .map((icon) => {
      const before = getComputedStyle(icon, "::before");
      const face = `${unquote(before.fontFamily.split(",")[0])} ${before.fontWeight}`;
      return {
        icon: icon.className,
        content: before.content,
        face: face,
        loaded: loaded.has(face),
        width: icon.getBoundingClientRect().width,
      };
    });
}
"""


@pytest.mark.parametrize("path", [CHAPTER, "index.html"])
def test_icons_are_drawn_by_the_webfont_without_fontawesome_js(page, site, path):
    """The theme's 1.5 MB fontawesome.js is not loaded; every visible icon still shows,
    drawn by a loaded Font Awesome webfont (the script would have swapped it for an SVG)."""
    scripts: list[str] = []
    page.on("request", lambda request: scripts.append(request.url))
    page.set_viewport_size(DESKTOP)
    page.goto(f"{site}/{path}", wait_until="networkidle")
    assert [url for url in scripts if "fontawesome.js" in url] == []
    icons = page.evaluate(ICONS_JS)
    assert len(icons) >= 5  # menu, repository, download, fullscreen, colour mode, ...
    drawn = [i for i in icons if i["content"].startswith('"') and i["loaded"] and i["width"] > 0]
    assert drawn == icons
    assert {i["face"] for i in icons} >= {"Font Awesome 6 Free 900", "Font Awesome 6 Brands 400"}


def test_the_section_page_first_load_is_light(browser, site, capsys):
    """The section page's first load (empty cache): every response's body, summed."""
    context = browser.new_context(viewport=DESKTOP)
    context.route("**/*", _local_only(site))
    page = context.new_page()
    responses = []
    page.on("response", lambda response: responses.append(response))
    try:
        page.goto(f"{site}/{CHAPTER}", wait_until="networkidle")
        page.wait_for_selector("mjx-container", timeout=15000)
        page.wait_for_load_state("networkidle")
        sizes = {response.url: len(response.body()) for response in responses}
    finally:
        context.close()
    total = sum(sizes.values())
    largest = sorted(sizes.items(), key=lambda item: -item[1])[:3]
    with capsys.disabled():
        print(
            f"\n{CHAPTER} first load: {total} bytes ({total / 1e6:.2f} MB) in {len(sizes)} "
            "requests; largest: "
            + ", ".join(f"{url.removeprefix(site)} {size}" for url, size in largest)
        )
    assert total < FIRST_LOAD_BUDGET
    assert not [url for url in sizes if "fontawesome.js" in url]


SEARCH_ENTRIES_JS = """
() => Array.from(document.querySelectorAll("input[type=search], .search-button__button"))
  .filter((entry) => entry.checkVisibility({visibilityProperty: true, opacityProperty: true}))
  .map((entry) => entry.getAttribute("aria-label") || entry.getAttribute("placeholder"))
"""


@pytest.mark.parametrize("path", CONTENT_PAGES)
def test_one_search_box_at_desktop_width(page, site, path):
    page.set_viewport_size(DESKTOP)
    page.goto(f"{site}/{path}", wait_until="networkidle")
    assert page.evaluate(SEARCH_ENTRIES_JS) == ["Pesquisar neste livro..."]
    # No second, almost empty top bar above the article's.
    heights = page.locator("#pst-header").evaluate_all(
        "(bars) => bars.map((bar) => bar.getBoundingClientRect().height)"
    )
    assert [height for height in heights if height > 0] == []


@pytest.mark.parametrize(
    ("viewport", "button"),
    [
        (DESKTOP, ".bd-sidebar-primary .search-button__button"),
        ({"width": 600, "height": 800}, ".bd-header-article .search-button__button"),
    ],
    ids=["desktop-sidebar", "narrow-article-header"],
)
def test_the_search_box_opens_a_search_field(page, site, viewport, button):
    page.set_viewport_size(viewport)
    page.goto(f"{site}/{CHAPTER}", wait_until="networkidle")
    page.locator(button).click()
    field = page.locator("#pst-search-dialog input[name=q]")
    field.wait_for(state="visible")
    field.fill("camada")
    field.press("Enter")
    page.wait_for_url("**/search.html?q=camada")
    page.wait_for_selector("#search-results p.search-summary", timeout=15000)


# Visible text nodes outside code, outputs and math; unlike the DOM scan of
# test_pages_stay_portuguese_once_the_scripts_ran, <kbd> counts (the theme's "Ctrl" hints).
VISIBLE_TEXT_JS = """
() => {
  const exempt = ("script, style, template, pre, code, samp, .output, .cell_output, .math, "
    + "mjx-container");
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const texts = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!node.textContent.trim() || parent.closest(exempt)) continue;
    if (!parent.checkVisibility({visibilityProperty: true, opacityProperty: true})) continue;
    texts.push(node.textContent.trim());
  }
  return texts;
}
"""
# Key names: the theme printed "Ctrl" in its search boxes.
KEY_NAMES = re.compile(r"\b(?:Ctrl|Shift|Alt|Enter|Esc|Cmd)\b")


@pytest.mark.parametrize("path", PAGES)
def test_visible_text_has_no_english_at_desktop_width(page, site, english, path):
    page.set_viewport_size(DESKTOP)
    page.goto(f"{site}/{path}", wait_until="networkidle")
    if path.startswith("search.html"):
        page.wait_for_selector("#search-results p.search-summary", timeout=15000)
    found = [
        (text, words)
        for text in page.evaluate(VISIBLE_TEXT_JS)
        if (words := english.english_in(text) + KEY_NAMES.findall(text))
    ]
    assert found == []


# Each visible code block the selector finds: its widest line against the room it has.
CODE_WIDTHS_JS = """
(selector) => Array.from(document.querySelectorAll(selector))
  .filter((pre) => pre.checkVisibility())
  .map((pre) => ({
    stub: pre.textContent.includes("SEU CÓDIGO AQUI"),
    widest: Math.max(...pre.textContent.split("\\n").map((line) => line.length)),
    scroll: pre.scrollWidth,
    client: pre.clientWidth,
  }))
"""


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_exercise_stubs_fit_their_code_blocks_at_desktop_width(page, site, framework):
    """The stubs' comments fit: no code block of the exercises page scrolls sideways."""
    page.set_viewport_size(DESKTOP)
    page.goto(f"{site}/{EXERCISES}?tab={framework}", wait_until="networkidle")
    blocks = page.evaluate(CODE_WIDTHS_JS, "div.cell_input pre")
    assert len([block for block in blocks if block["stub"]]) == 2  # one stub per exercise
    clipped = [block for block in blocks if block["scroll"] > block["client"]]
    assert clipped == []


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_solutions_fit_their_code_blocks_at_desktop_width(page, site, framework):
    """Each solution, its dropdown opened, reads without scrolling sideways."""
    page.set_viewport_size(DESKTOP)
    page.goto(f"{site}/{SOLUTIONS}?tab={framework}", wait_until="networkidle")
    page.locator("details.sd-dropdown:visible > summary").evaluate_all(
        "(summaries) => summaries.forEach((summary) => summary.click())"
    )
    blocks = page.evaluate(CODE_WIDTHS_JS, "div.highlight pre")
    assert len(blocks) >= 2  # one solution per exercise
    clipped = [block for block in blocks if block["scroll"] > block["client"]]
    assert clipped == []
