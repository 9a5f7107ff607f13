"""The welcome screen of the dashboard's first start: shown once per store, closed with Escape or Enter, shown
again from the help; it fits at 80x24 and uses the room at 120x35."""

from __future__ import annotations

import pytest
from textual.containers import VerticalScroll

from esh_tui.tui.app import WELCOME_SHOWN
from esh_tui.tui.screens.help import HelpScreen
from esh_tui.tui.screens.welcome import WelcomeScreen

from tui_support import make_app, screen_text, settle


@pytest.mark.parametrize("key", ["escape", "enter"])
async def test_the_first_start_shows_the_welcome_once_and_a_key_closes_it(key):
    app, _ = make_app(welcome=True)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, WelcomeScreen)
        assert not [n for n in app._notifications if n.title == "Offline simulator"], "the welcome says it instead"
        text = screen_text(app)
        for said in ("Welcome to esh-tui", "offline demo", "12 sample artists", "Artists", "Releases", "a Add",
                     "? Help", "esh-tui setup", "http://127.0.0.1:8765/callback", "development or extended"):
            assert said in text, said
        await pilot.press(key)
        await pilot.pause()
        assert app.screen is app.dashboard
    assert app.runtime.store.settings()[WELCOME_SHOWN] is True
    again, _ = make_app(autostart=False, welcome=True)  # the second start, on the same store
    async with again.run_test(size=(120, 35)) as pilot:
        await settle(again, pilot)
        assert again.screen is again.dashboard, "shown once"
        assert [n for n in again._notifications if n.title == "Offline simulator"], "the toast says it then"


async def test_at_80x24_it_fits_and_s_shows_how_to_connect_your_spotify():
    app, _ = make_app(welcome=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, WelcomeScreen)
        scroll = screen.query_one("#welcome", VerticalScroll)
        assert scroll.max_scroll_y == 0, "everything fits without scrolling"
        assert scroll.region.height <= 23 and scroll.region.width <= 80
        text = screen_text(app)
        assert "Enter or Esc: to the dashboard" in text and "s here says" in text
        assert "redirect URI" not in text, "how to connect is a key away at this size"
        await pilot.press("s")
        await pilot.pause()
        text = screen_text(app)
        assert "esh-tui setup" in text and "redirect URI to paste" in text and "client id and secret" in text


async def test_at_120x35_how_to_connect_shows_at_once_and_nothing_scrolls():
    app, _ = make_app(welcome=True)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(app, pilot)
        scroll = app.screen.query_one("#welcome", VerticalScroll)
        assert scroll.max_scroll_y == 0 and scroll.region.width >= 100
        assert app.screen.query_one("#welcome-connect").display


async def test_the_help_shows_the_welcome_again():
    app, _ = make_app(autostart=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.screen is app.dashboard, "already seen"
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert "w: the welcome screen again" in screen_text(app)
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.dashboard


async def test_connected_to_spotify_it_says_so_and_not_how_to_connect():
    from tui_support import runtime
    from esh_tui.tui.app import EshApp
    from esh_tui.tui.screens.welcome import WelcomeScreen as Welcome

    app = EshApp(runtime()[0], prefetch=False, autostart=False)  # the welcome seen: only this one shows
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        app.push_screen(Welcome([("a", "Add")], offline=False, artists=3, redirect_uri="http://127.0.0.1:8765/callback",
                                days=90))
        await pilot.pause()
        text = screen_text(app)
        assert "Connected to your Spotify app: 3 artists tracked" in text
        assert "esh-tui setup" not in text and "offline demo" not in text
        await pilot.press("s")
        await pilot.pause()
        assert "esh-tui setup" not in screen_text(app)
