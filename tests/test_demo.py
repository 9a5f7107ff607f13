"""The offline demo's sample library (sim/demo.py): invented names in several scripts, none of the catalog's
hostile ones, and discographies that show what esh-tui does; a first offline run finds exactly the oracle's
releases for it."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata

from esh_tui.cli import main
from esh_tui.config import load_settings
from esh_tui.sim import names, oracle
from esh_tui.sim.demo import CAST_NAMES
from esh_tui.sim.offline import offline_spotify

TODAY = dt.date(2026, 11, 23)
CUTOFF = TODAY - dt.timedelta(days=90)


def _demo():
    offline = offline_spotify(load_settings(), today=TODAY)
    return offline.catalog, offline.sample_artist_ids()


def _scripts(name: str) -> set[str]:
    return {unicodedata.name(ch).split()[0] for ch in name if ch.isalpha()}


def test_the_demo_artists_have_invented_names_in_several_scripts_and_none_hostile():
    catalog, ids = _demo()
    shown = [catalog.artists[i].name for i in ids]
    assert len(ids) == 12 and sorted(shown) == sorted(CAST_NAMES)
    unshowable = set(names.HOSTILE_NAMES) | set(names.EMOJI_NAMES)
    assert not unshowable & set(shown) and all(n.isprintable() and "[" not in n for n in shown)
    scripts = set().union(*map(_scripts, shown))
    assert {"LATIN", "CYRILLIC", "ARABIC", "HANGUL"} <= scripts and scripts & {"HIRAGANA", "KATAKANA", "CJK"}
    assert any(any(ord(ch) > 127 for ch in n) and _scripts(n) == {"LATIN"} for n in shown), "Latin with accents"
    titles = [catalog.albums[a].name for a in catalog.albums if set(catalog.albums[a].artist_ids) & set(ids)]
    assert titles and not unshowable & set(titles), "the demo's own titles are plain too"


def test_the_catalog_keeps_its_hostile_corner():
    catalog, ids = _demo()
    everyone = {a.name for a in catalog.real_artists()}
    assert {"[red]Red[/] Alert", "[link=https://example.invalid]Click Me[/link]", "New\nLine Collective"} <= everyone
    assert len(set(catalog.tracked_sample(12)) - set(ids)) >= 4, "the tests' hostile sample is another one"


def test_the_demo_shows_varied_activity_features_bundled_singles_and_rereleases():
    catalog, ids = _demo()
    expected = oracle.expected_releases(catalog, ids, CUTOFF)
    per_artist = {i: [r for r in expected.values() if i in r.found_for] for i in ids}
    profiles = {catalog.artists[i].profile for i in ids}
    assert {"prolific", "new", "inactive", "moderate"} <= profiles
    assert any(r.release_date > TODAY - dt.timedelta(days=7) for r in expected.values()), "released this week"
    assert max(map(len, per_artist.values())) >= 15, "a prolific one"
    assert any(not releases for releases in per_artist.values()), "a quiet one"
    assert any(len(set(r.found_for) & set(ids)) == 2 for r in expected.values()), "a feature of two tracked artists"
    assert {"album", "single"} <= {r.album_type for r in expected.values()}
    own = [a for a in catalog.albums.values() if a.artist_ids[0] in ids and catalog.is_visible(a)]
    singles = {catalog.tracks[t].isrc: a for a in own if a.kind == "single" for t in a.track_ids}
    assert any(catalog.tracks[t].isrc in singles and a.date > singles[catalog.tracks[t].isrc].date
               for a in own if a.kind == "album" for t in a.track_ids), "a single later bundled on an album"
    rereleases = [a for a in own if a.kind in ("deluxe", "remaster") and a.date >= CUTOFF]
    dropped = [t for a in rereleases for t in a.track_ids if catalog.tracks[t].isrc not in expected]
    assert rereleases and dropped, "a deluxe or remaster in the window whose old recordings are not new releases"


def test_a_first_offline_run_tracks_the_demo_and_finds_exactly_the_oracles_releases(capsys, monkeypatch):
    import esh_tui.runtime as runtime_module

    real = runtime_module.offline_spotify
    monkeypatch.setattr(runtime_module, "offline_spotify", lambda settings, **kw: real(settings, **{**kw, "today": TODAY}))
    assert main(["track", "--days", "90", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    catalog, ids = _demo()
    expected = oracle.expected_releases(catalog, ids, CUTOFF)
    assert sorted(r["track_id"] for r in rows) == sorted(r.track_id for r in expected.values())
    assert {a for r in rows for a in r["artist"].split(", ")} & set(CAST_NAMES)


def test_commands_that_only_read_the_store_never_generate_the_offline_catalog_and_a_request_does(tmp_path,
                                                                                                  monkeypatch):
    """Generating it takes a quarter of a second: `artists list` took 0.57 s, now 0.30 s."""
    from esh_tui.sim import offline
    from esh_tui.tui.app import create_app

    assert main(["track", "--format", "tsv"]) == 0  # a first start (the sample artists) and a cold run
    generated = []
    shared = offline.Catalog

    class Counted:
        @staticmethod
        def generate(*args):
            generated.append(args)
            return shared.generate(*args)

    monkeypatch.setattr(offline, "Catalog", Counted)
    for argv in (["artists", "list"], ["artists", "export", str(tmp_path / "backup.json")], ["stats"],
                 ["track", "--format", "tsv"]):  # (the last: every artist is fresh, no request is made)
        assert main(argv) == 0, argv
    assert generated == []
    assert main(["track", "--format", "tsv", "--force-refresh"]) == 0
    assert len(generated) == 1, "a run that asks Spotify generates it, once"
    app = create_app()
    try:
        assert app.runtime.offline.world.generated, "before the dashboard starts: not at its first run's request"
    finally:
        app.runtime.close()
    assert len(generated) == 2
