"""Delivery: one Apprise digest per run with new releases, pending after a failure; Atom and iCalendar feeds
that parse and stay byte-identical; notify test; the notified state's migration (schema 8)."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import feedparser
import icalendar
from esh_tui.cli import main
from esh_tui.delivery.digest import build_digest
from esh_tui.models import Release
from esh_tui.storage.store import SCHEMA_VERSION, Store
from tests.delivery_support import receiver

SECRET = "s3cr3tW3bhookT0ken"  # a webhook's token in its URL path: never in a message, an output or the log


def _track(*args: str) -> int:
    """The exit code of `esh-tui track --format json ARGS` (argparse's usage errors too)."""
    try:
        return main(["track", "--format", "json", *args])
    except SystemExit as exc:
        return exc.code


def _log_text() -> str:
    path = Path(os.environ["ESH_LOG_DIR"]) / "esh-tui.log"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def test_a_run_with_new_releases_sends_exactly_one_digest_and_a_run_without_sends_none(capsys):
    with receiver() as hook:
        assert _track("--notify", hook.url(f"hooks/{SECRET}")) == 0
        releases = json.loads(capsys.readouterr().out)
        assert len(hook.messages) == 1, "one digest per run, never one message per release"
        digest = hook.messages[0]
        assert digest["title"] == f"esh-tui: {len(releases)} new releases"
        for release in releases:
            assert release["url"] in digest["message"] and release["url"].startswith("https://open.spotify.com/track/")
        assert _track("--notify", hook.url(f"hooks/{SECRET}")) == 0
        assert len(hook.messages) == 1, "a run with nothing new sends nothing"
        assert _track("--notify", hook.url(f"hooks/{SECRET}"), "--force-refresh") == 0
        assert len(hook.messages) == 1, "nor does one that asked Spotify again and found nothing new"


def test_the_digest_groups_releases_by_artist_with_each_release_once():
    def release(key, artist_id, track, day):
        return Release(key, key, f"t{key}", track, ("Credited",), f"a{key}", "Album", "single",
                       dt.date(2026, 11, day), found_for=(artist_id,))

    names = {"A": "Zed", "B": "Abba"}
    digest = build_digest([release("K1", "A", "One", 3), release("K2", "B", "Two", 2),
                           release("K3", "A", "Three", 5)], names)
    lines = digest.body.splitlines()
    assert digest.title == "esh-tui: 3 new releases" and digest.keys == ("K1", "K2", "K3")
    assert lines.index("Abba") < lines.index("Zed"), "artists in name order"
    zed = lines[lines.index("Zed"):]
    assert zed[1].startswith("  • Three") and zed[3].startswith("  • One"), "newest first within an artist"
    assert digest.body.count("https://open.spotify.com/track/") == 3


def test_hostile_names_reach_a_digest_as_plain_text_without_controls():
    hostile = "\x1b[31mEvil\x07 [bold]Name[/bold]\u202e\nnext"
    r = Release("K", "K", "t1", hostile, (hostile,), "a1", hostile, "album", dt.date(2026, 11, 1), found_for=("X",))
    digest = build_digest([r], {"X": hostile})
    text = digest.title + digest.body
    assert not any(ch in text for ch in "\x1b\x07\u202e\r")
    assert "[bold]Name[/bold]" in text, "markup-looking text is kept literally"


def test_a_failing_receiver_leaves_the_releases_pending_and_the_next_run_delivers_them(capsys):
    with receiver(status=500) as broken:
        assert _track("--notify", broken.url(f"hooks/{SECRET}")) == 0, "a failed notification never fails the run"
        out, err = capsys.readouterr()
        releases = json.loads(out)
        assert len(broken.messages) == 1 and "stay pending" in err
    with receiver() as hook:
        assert _track("--notify", hook.url(f"hooks/{SECRET}")) == 0
        assert len(hook.messages) == 1
        assert hook.messages[0]["title"] == f"esh-tui: {len(releases)} new releases", "nothing was lost"
        assert _track("--notify", hook.url(f"hooks/{SECRET}")) == 0
        assert len(hook.messages) == 1, "once delivered they are not sent again"


def test_a_failed_notification_is_one_line_on_stderr_and_in_the_log_without_the_urls_secret(capsys):
    with receiver(status=500) as broken:
        url = broken.url(f"hooks/{SECRET}")
    assert _track("--notify", url) == 0, "the receiver is gone: the run still succeeds"
    out, err = capsys.readouterr()
    failures = [line for line in err.splitlines() if "notification" in line]
    assert len(failures) == 1 and "failed" in failures[0] and "stay pending" in failures[0]
    assert "json://127.0.0.1" in failures[0], "the line says which URL (its host), not its token"
    for text in (out, err, _log_text()):
        assert SECRET not in text


def test_nothing_secret_in_the_message(tmp_path, capsys):
    with receiver() as hook:
        assert _track("--notify", hook.url(f"hooks/{SECRET}")) == 0
        message = json.dumps(hook.messages)
    for secret in (SECRET, os.environ["HOME"], os.environ["ESH_DATA_DIR"], str(tmp_path)):
        assert secret not in message
    assert "\\u001b" not in message and "\\u0007" not in message


def test_notify_urls_from_config_toml_and_notify_test_says_per_url_whether_it_went(capsys):
    with receiver() as hook, receiver(status=500) as broken:
        config = Path(os.environ["ESH_CONFIG_DIR"]) / "config.toml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(f'[notify]\nurls = ["{hook.url(SECRET)}", "{broken.url(SECRET)}"]\n')
        assert main(["notify", "test"]) == 1, "one URL failed"
        out, err = capsys.readouterr()
        lines = out.splitlines()
        assert [line.split()[0] for line in lines] == ["sent", "failed"]
        assert f"127.0.0.1:{hook.port}" in lines[0] and f"127.0.0.1:{broken.port}" in lines[1]
        assert len(hook.messages) == 1 and hook.messages[0]["title"] == "esh-tui: test notification"
        assert SECRET not in out + err + _log_text()


def test_bad_notification_and_feed_targets_are_one_line_and_exit_2_before_any_run(tmp_path, capsys):
    for argv, needle in ((["--notify", "not a url"], "not a notification URL"),
                         (["--notify", "nosuchservice://x/y"], "not one Apprise knows"),
                         (["--feed", "rss:out.xml"], "not KIND:PATH"),
                         (["--feed", f"atom:{tmp_path}/missing/dir/feed.xml"], "not a directory you can write"),
                         (["--feed", f"ics:{tmp_path}"], "is a directory")):
        assert _track(*argv) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and needle in err[0], (argv, err)
    assert main(["notify", "test"]) == 2
    assert "no notification URLs" in capsys.readouterr().err


def test_feeds_parse_and_stay_byte_identical_across_a_run_with_nothing_new(tmp_path, capsys):
    atom, ics = tmp_path / "new.xml", tmp_path / "new.ics"
    assert _track("--feed", f"atom:{atom}", "--feed", f"ics:{ics}") == 0
    releases = json.loads(capsys.readouterr().out)
    first = atom.read_bytes(), ics.read_bytes()
    assert _track("--feed", f"atom:{atom}", "--feed", f"ics:{ics}", "--force-refresh") == 0
    assert (atom.read_bytes(), ics.read_bytes()) == first, "no new releases: the same bytes"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")], "no temporary file left"

    feed = feedparser.parse(first[0])
    assert not feed.bozo, feed.get("bozo_exception")
    assert len(feed.entries) == len(releases)
    ids = [entry.id for entry in feed.entries]
    assert len(set(ids)) == len(ids) and all(i.startswith("urn:esh-tui:release:") for i in ids)
    assert {entry.link for entry in feed.entries} == {r["url"] for r in releases}

    calendar = icalendar.Calendar.from_ical(first[1])
    events = list(calendar.walk("VEVENT"))
    albums = {(r["album"], r["date"]) for r in releases}
    assert len(events) == len({e["uid"] for e in events}) and len(events) <= len(albums)
    assert {e.decoded("dtstart").isoformat() for e in events} == {r["date"] for r in releases}


def test_feeds_from_config_toml_are_written_after_a_run(tmp_path):
    config = Path(os.environ["ESH_CONFIG_DIR"]) / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[feeds]\natom = "{tmp_path}/c.xml"\nics = "{tmp_path}/c.ics"\n')
    assert _track() == 0
    assert feedparser.parse((tmp_path / "c.xml").read_bytes()).entries
    assert list(icalendar.Calendar.from_ical((tmp_path / "c.ics").read_bytes()).walk("VEVENT"))


def test_unknown_notify_or_feeds_settings_in_config_toml_are_one_line_exit_2(capsys):
    config = Path(os.environ["ESH_CONFIG_DIR"]) / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    for text, needle in (('[notify]\nurl = "x"\n', "unknown setting [notify] url"),
                         ('[notify]\nurls = "ntfy://x"\n', "must be a list"),
                         ('[notify]\nurls = [3]\n', "entry 1 is not a notification URL"),
                         ('[feeds]\nrss = "x"\n', "unknown setting [feeds] rss")):
        config.write_text(text)
        assert _track() == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and needle in err[0], err


def test_config_shows_how_many_notification_urls_never_the_urls(capsys):
    config = Path(os.environ["ESH_CONFIG_DIR"]) / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[notify]\nurls = ["tgram://123456:{SECRET}/987"]\n')
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "[notify] urls" in out and "1 URL" in out and SECRET not in out


def test_a_schema_7_store_migrates_with_its_releases_counted_as_notified(tmp_path, monkeypatch):
    from esh_tui.storage import store as store_module

    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 7)
    old = Store(tmp_path / "esh.db")
    assert old.schema_version == 7 and "notified_at" not in old.db["releases"].columns_dict
    with old.transaction():
        old.db.execute("INSERT INTO releases (key, isrc, track_id, release_date, first_seen_at) "
                       "VALUES ('OLD1', 'OLD1', 't', '2026-11-01', 1000.0)")
    old.close()
    monkeypatch.undo()
    store = Store(tmp_path / "esh.db")
    try:
        assert store.schema_version == SCHEMA_VERSION == 8
        assert store.unnotified(["OLD1", "NEW1"]) == {"NEW1"}, "what an upgrade found is not announced again"
        assert store.first_seen(["OLD1", "NEW1"]) == {"OLD1": 1000.0}
        from esh_tui.storage.migrations import MIGRATIONS

        MIGRATIONS[8](store.db)  # safe to run again (renumbered at a merge)
        assert store.unnotified(["OLD1"]) == set()
    finally:
        store.close()


def test_hostile_names_in_feeds_are_plain_text_and_the_feeds_still_parse():
    from esh_tui.delivery.feeds import atom, ics

    hostile = "\x1b]8;;http://evil\x07<b>Evil</b>\x00 & \u202eName\x0b"
    r = Release("K&<1>", "K1", "t/1?x", hostile, (hostile,), "al/1", hostile, "<album>", dt.date(2026, 11, 1),
                found_for=("X",))
    feed_bytes, calendar_bytes = atom([r], {"X": hostile}, {"K&<1>": 1_790_000_000.5}), ics([r], {"X": hostile}, {})
    for data in (feed_bytes, calendar_bytes):
        assert not any(ch.encode() in data for ch in "\x1b\x07\x00\x0b\u202e")
    feed = feedparser.parse(feed_bytes)
    assert not feed.bozo and feed.entries[0].title.startswith("<b>Evil</b> & Name")
    assert feed.entries[0].id == "urn:esh-tui:release:K%26%3C1%3E"
    assert feed.entries[0].link == "https://open.spotify.com/track/t%2F1%3Fx"
    event = next(iter(icalendar.Calendar.from_ical(calendar_bytes).walk("VEVENT")))
    assert str(event["uid"]) == "album-al%2F1@esh-tui"


def test_the_log_blanks_apprise_urls_but_keeps_web_addresses_paths():
    from esh_tui.logs import redact

    assert redact(f"to tgram://123456:{SECRET}/987 now") == "to tgram://[redacted] now"
    assert SECRET not in redact(f"ntfys://me:{SECRET}@ntfy.example.org/topic")
    assert redact(f"https://me:{SECRET}@ntfy.sh/topic") == "https://[redacted]@ntfy.sh/topic"
    assert redact("GET https://api.spotify.com/v1/artists/x/albums") == "GET https://api.spotify.com/v1/artists/x/albums"


async def test_the_dashboards_runs_deliver_to_config_toml_targets_and_say_failures_in_its_log(tmp_path):
    from tests.tui_support import make_app, settle

    config = Path(os.environ["ESH_CONFIG_DIR"]) / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    with receiver() as hook, receiver(status=500) as broken:
        config.write_text(f'[notify]\nurls = ["{hook.url(SECRET)}", "{broken.url(SECRET)}"]\n'
                          f'[feeds]\natom = "{tmp_path}/d.xml"\n')
        app, _ = make_app()
        async with app.run_test(size=(110, 34)) as pilot:
            await settle(app, pilot)
            await pilot.press("l")  # the event log shown
            await pilot.pause()
            log = "\n".join(strip.text for strip in app.dashboard.query_one("RichLog").lines)
        assert len(hook.messages) == 1 and len(broken.messages) == 1, "one digest per URL for the run"
    assert "notification to json://127.0.0.1" in log and "stay pending" in log and SECRET not in log
    assert feedparser.parse((tmp_path / "d.xml").read_bytes()).entries


def test_a_noncharacter_in_a_name_still_gives_an_atom_feed_that_parses():
    from esh_tui.delivery.feeds import atom

    name = "Odd\ufffe Name\uffff"
    r = Release("K1", "K1", "t1", name, (name,), "al1", name, "album", dt.date(2026, 11, 1), found_for=("X",))
    feed = feedparser.parse(atom([r], {"X": name}, {}))
    assert not feed.bozo and feed.entries[0].title.startswith("Odd\ufffd Name\ufffd")


def test_feed_paths_with_a_nul_an_unknown_users_home_or_a_too_long_name_are_one_line_exit_2(tmp_path, capsys):
    config = Path(os.environ["ESH_CONFIG_DIR"]) / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    long_name = f"{tmp_path}/{'a' * 300}.xml"
    for setting, needle in (('atom = "a\\u0000b.xml"', "NUL"), ('ics = "~nosuchuser-esh/x.ics"', "no user"),
                            (f'atom = "{long_name}"', "longer than")):
        config.write_text(f"[feeds]\n{setting}\n")
        assert _track() == 2, setting
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and needle in err[0], (setting, err)
    config.unlink()
    assert _track("--feed", "atom:~nosuchuser-esh/x.xml") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no user" in err[0]
    assert not any(tmp_path.glob("*.xml"))


def test_a_feed_whose_name_is_near_the_file_systems_limit_is_written(tmp_path):
    path = tmp_path / f"{'b' * (os.pathconf(tmp_path, 'PC_NAME_MAX') - 4)}.xml"
    assert _track("--feed", f"atom:{path}") == 0
    assert feedparser.parse(path.read_bytes()).entries


def test_a_feed_a_library_refuses_to_build_is_one_line_and_the_run_and_the_other_feed_go_on(tmp_path, monkeypatch,
                                                                                          capsys):
    """Whatever feedgen or icalendar refuses in some value (a ValueError) is said in one line; the run ends 0,
    its releases printed, the other feed written."""
    from esh_tui.delivery import feeds

    write = feeds.write_feed

    def refusing_atom(kind, *args, **kwargs):
        if kind == "atom":
            raise ValueError("All strings must be XML compatible")
        return write(kind, *args, **kwargs)

    monkeypatch.setattr(feeds, "write_feed", refusing_atom)
    assert _track("--feed", f"atom:{tmp_path / 'f.xml'}", "--feed", f"ics:{tmp_path / 'f.ics'}") == 0
    err = [line for line in capsys.readouterr().err.splitlines() if "feed" in line]
    assert len(err) == 1 and "could not build the atom feed" in err[0] and "XML compatible" in err[0]
    assert not (tmp_path / "f.xml").exists() and (tmp_path / "f.ics").read_bytes().startswith(b"BEGIN:VCALENDAR")


def test_a_feed_path_that_is_a_symlink_stays_one_and_the_file_it_points_to_is_written(tmp_path):
    served = tmp_path / "www"
    served.mkdir()
    (served / "esh.xml").write_text("old")
    link = tmp_path / "feed.xml"
    link.symlink_to(served / "esh.xml")
    assert _track("--feed", f"atom:{link}") == 0
    assert link.is_symlink() and feedparser.parse((served / "esh.xml").read_bytes()).entries
