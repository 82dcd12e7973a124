"""Two ways to drive a page in the journeys: with a pointer, and with the keyboard only.

A journey is written once against these few verbs. ``Pointer`` clicks and fills
the way a mouse user does. ``Keyboard`` reaches every control by pressing Tab
from where the focus is, as someone without a mouse does, and checks on the way
that each stop shows where the focus is and that Tab never gets stuck: a control
that Tab cannot reach, or a loop that never leaves a part of the page, fails the
journey with the path of stops it took.
"""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import Download, Locator, Page

# More stops than the longest page has: past this without wrapping round to the
# start of the page, the focus is trapped.
MAX_TAB_STOPS = 300

# Where the focus is, whether it is on (or inside) the target, and whether it
# can be seen: an outline or a shadow ring that is there only while focused.
FOCUS_STATE = """(target) => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) {
    return {onPage: false};
  }
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  const ring = style.boxShadow && style.boxShadow !== 'none';
  const text = (el.getAttribute('aria-label') || el.labels?.[0]?.textContent
                || el.textContent || el.getAttribute('name') || '').trim().replace(/\\s+/g, ' ');
  return {
    onPage: true,
    isTarget: el === target,
    visible: outline || ring,
    description: `${el.tagName.toLowerCase()} "${text.slice(0, 50)}"`,
    radioGroup: el.type === 'radio' && target.type === 'radio' && el.name === target.name,
  };
}"""


def nl(message: str) -> str:
    """A message as the Dutch interface shows it: the journeys read the site in Dutch."""
    with translation.override("nl"):
        return gettext(message)


def main(page: Page) -> Locator:
    return page.locator("main")


class Pointer:
    """Clicks and fills, as with a mouse or a finger."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def fill(self, field: Locator, value: str) -> None:
        field.fill(value)

    def choose(self, field: Locator, option: str) -> None:
        field.select_option(label=option)

    def tick(self, field: Locator, on: bool = True) -> None:
        field.set_checked(on)

    def activate(self, control: Locator) -> None:
        """Follow a link or press a button; every one of them loads a page."""
        with self.page.expect_navigation():
            control.click()

    def download(self, control: Locator) -> Download:
        """Follow a link that saves a file instead of loading a page."""
        with self.page.expect_download() as download:
            control.click()
        return download.value


class Keyboard:
    """Only the keys a keyboard user has: Tab, Enter, Space, the arrows and typing."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.stops_checked = 0

    def focus(self, target: Locator) -> None:
        """Press Tab until the focus is on ``target``; every stop on the way must
        show its focus. Fails when Tab never reaches it or never leaves a loop."""
        target = target.first
        target.wait_for(state="visible")
        handle = target.element_handle()
        if self.page.evaluate("(el) => el === document.activeElement", handle):
            return
        path: list[str] = []
        wraps = 0
        since_wrap = 0
        for _ in range(MAX_TAB_STOPS * 2):
            self.page.keyboard.press("Tab")
            state = self.page.evaluate(FOCUS_STATE, handle)
            if not state["onPage"]:
                wraps += 1
                since_wrap = 0
                assert wraps < 3, f"Tab never reaches {target}; stops: {path[-40:]}"
                continue
            since_wrap += 1
            assert since_wrap <= MAX_TAB_STOPS, f"Focus is trapped; last stops: {path[-20:]}"
            path.append(state["description"])
            self.stops_checked += 1
            assert state["visible"], f"No visible focus on {state['description']}, {self.page.url}"
            if state["isTarget"]:
                return
            if state["radioGroup"]:
                self._arrow_to(handle)
                return
        raise AssertionError(f"Tab never reaches {target}; stops: {path[-40:]}")

    def _arrow_to(self, radio) -> None:
        for _ in range(20):
            if self.page.evaluate("(el) => el === document.activeElement", radio):
                return
            self.page.keyboard.press("ArrowDown")
        raise AssertionError("The arrow keys never reach the option in its group")

    def fill(self, field: Locator, value: str) -> None:
        self.focus(field)
        self.page.keyboard.press("Control+A")
        self.page.keyboard.press("Delete")
        if value:
            self.page.keyboard.type(value)

    def choose(self, field: Locator, option: str) -> None:
        self.focus(field)
        handle = field.first.element_handle()
        wanted = field.first.evaluate(
            "(el, option) => [...el.options].findIndex((o) => o.label.trim() === option)", option
        )
        assert wanted >= 0, f"No option {option!r} in {field}"
        for _ in range(200):
            current = self.page.evaluate("(el) => el.selectedIndex", handle)
            if current == wanted:
                return
            self.page.keyboard.press("ArrowDown" if current < wanted else "ArrowUp")
        raise AssertionError(f"The arrow keys never select {option!r}")

    def tick(self, field: Locator, on: bool = True) -> None:
        self.focus(field)
        if field.first.is_checked() != on:
            self.page.keyboard.press("Space")

    def activate(self, control: Locator) -> None:
        """Follow a link or press a button with Enter; every one of them loads a page."""
        self.focus(control)
        with self.page.expect_navigation():
            self.page.keyboard.press("Enter")

    def download(self, control: Locator) -> Download:
        """Follow a link that saves a file with Enter; the page stays where it is."""
        self.focus(control)
        with self.page.expect_download() as download:
            self.page.keyboard.press("Enter")
        return download.value
