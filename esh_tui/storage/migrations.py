"""The store's schema, one migration a version: each brings a store of the version before to its own, in the
transaction `Store._migrate` opens (a store opened by two processes at once is migrated once). A new store gets at
once the schema they end in (`new_store_schema`)."""

from __future__ import annotations

import functools

import sqlite_utils

from esh_tui.storage import rollups

# The composite index made for the hottest query (an artist's cached releases: store.CACHED_CANDIDATES_SQL).
LOOKUP_INDEX, LOOKUP_INDEX_COLUMNS = "idx_artist_tracks_lookup", ["artist_id", "release_date", "fetched_at"]


def _migration_1(db: sqlite_utils.Database) -> None:
    db["artists"].create({
        "id": str, "name": str, "source": str, "added_at": str, "last_checked": float, "next_due": float,
        "scan_cutoff": str, "listing_total": int, "last_release": str, "releases_per_year": float, "frequency": str,
        "interval_hours": float, "failed_reason": str,
    }, pk="id", not_null={"name", "source", "added_at"})
    db["albums"].create({"id": str, "name": str, "album_type": str, "release_date": str, "noise": int,
                         "fetched_at": float}, pk="id", not_null={"name", "release_date", "fetched_at"})
    db["artist_albums"].create({"artist_id": str, "album_id": str, "album_group": str},
                               pk=("artist_id", "album_id"))
    db["tracks"].create({"id": str, "isrc": str, "name": str, "album_id": str, "artist_names": str,
                         "fetched_at": float}, pk="id", not_null={"fetched_at"})
    db["artist_tracks"].create({"artist_id": str, "track_id": str, "key": str, "isrc": str, "album_id": str,
                                "release_date": str, "fetched_at": float}, pk=("artist_id", "track_id"),
                               not_null={"key", "album_id", "release_date", "fetched_at"})
    db["isrc_earliest"].create({"isrc": str, "track_id": str, "track_name": str, "artist_names": str,
                                "album_id": str, "album_name": str, "album_type": str, "release_date": str,
                                "exact": int, "popularity": int, "fetched_at": float}, pk="isrc",
                               not_null={"track_id", "release_date"})
    db["releases"].create({"key": str, "isrc": str, "track_id": str, "track_name": str, "artist_names": str,
                           "album_id": str, "album_name": str, "album_type": str, "release_date": str,
                           "found_for": str, "first_seen_run": int, "first_seen_at": float}, pk="key",
                          not_null={"track_id", "release_date", "first_seen_at"})
    db["runs"].create({"id": int, "started_at": float, "finished_at": float, "cutoff": str, "forced": int,
                       "status": str, "message": str, "mode": str, "artists": int, "artists_fetched": int,
                       "api_calls": int, "releases": int, "new_releases": int}, pk="id")
    db["api_calls"].create({"id": int, "run_id": int, "at": float, "template": str, "status": str,
                            "latency_ms": float, "bytes": int, "retried": int, "new_connection": int}, pk="id")
    db["cache_stats"].create({"run_id": int, "tier": str, "hits": int, "misses": int, "evictions": int,
                              "p50_ms": float, "p95_ms": float}, pk=("run_id", "tier"))
    db["capabilities"].create({"api_url": str, "batch": int, "page_max": int, "learned_at": float}, pk="api_url")
    db["settings"].create({"key": str, "value": str}, pk="key")
    # The hot queries, each with the index it needs (a test checks the query plans).
    db["artist_tracks"].create_index(LOOKUP_INDEX_COLUMNS, index_name=LOOKUP_INDEX)
    db["artists"].create_index(["next_due"], index_name="idx_artists_due")
    db["api_calls"].create_index(["run_id", "template"], index_name="idx_api_calls_run")
    db["releases"].create_index(["first_seen_run"], index_name="idx_releases_run")
    db["releases"].create_index(["release_date"], index_name="idx_releases_date")
    db["artist_tracks"].create_index(["key"], index_name="idx_artist_tracks_key")


def _migration_2(db: sqlite_utils.Database) -> None:
    """Knowledge becomes window-independent, releases get a seen and a reported state, runs their process.

    Schema 1 rewrote an artist's candidates to the last run's window, so a narrower run forgot the rest
    while their albums stayed "known": which albums' candidates survived cannot be told. Every listing is
    taken as incomplete, so the next scan lists and reads the albums again (track ISRCs and earliest
    releases, kept whole, are not asked for again). Releases found before count as seen and reported."""
    db.execute("ALTER TABLE artists RENAME COLUMN scan_cutoff TO listed_back_to")
    db.execute("UPDATE artists SET listed_back_to = NULL, listing_total = NULL, next_due = NULL")
    db.execute("DELETE FROM artist_albums")
    db.execute("ALTER TABLE releases ADD COLUMN seen_at REAL")
    db.execute("ALTER TABLE releases ADD COLUMN reported_at REAL")
    db.execute("UPDATE releases SET seen_at = first_seen_at, reported_at = first_seen_at")
    db.execute("ALTER TABLE runs ADD COLUMN pid INTEGER")
    db["releases"].create_index(["seen_at"], index_name="idx_releases_seen")


def _migration_3(db: sqlite_utils.Database) -> None:
    """The daily API budget: calls sent per local day, by every run and prefetch of this store."""
    db["budget_days"].create({"day": str, "calls": int}, pk="day", not_null={"calls"})


def _migration_4(db: sqlite_utils.Database) -> None:
    """A scan stopped part way keeps the albums it finished: `partial_back_to` says how far back such albums
    may lie, so that known albums from there on do not end a listing (others beside them may be unread).
    It keeps the track lists of albums it read but did not finish too (`album_tracks`), not to read them again."""
    db.execute("ALTER TABLE artists ADD COLUMN partial_back_to TEXT")
    db["album_tracks"].create({"album_id": str, "items": str, "fetched_at": float}, pk="album_id",
                              not_null={"items", "fetched_at"})


def _migration_5(db: sqlite_utils.Database) -> None:
    """What runs cost, rolled up as they go (per run, per run and endpoint, per run and minute: see rollups.py),
    so any process's run can be watched from the store; earlier runs get theirs from their call records."""
    rollups.create_tables(db)
    rollups.backfill(db)


def _migration_6(db: sqlite_utils.Database) -> None:
    """What checking each artist costs: the API calls of its last check that asked Spotify anything, and of all
    its checks since (earlier ones were not counted: NULL)."""
    db.execute("ALTER TABLE artists ADD COLUMN last_scan_calls INTEGER")
    db.execute("ALTER TABLE artists ADD COLUMN total_calls INTEGER")


def _migration_7(db: sqlite_utils.Database) -> None:
    """Removing an artist keeps what was learned about it, so that tracking it again costs nothing while it is
    fresh: `removed_at` says since when an artist is not tracked (NULL: tracked). Knowledge is purged
    REMOVED_KEPT_DAYS later. Rows an older esh-tui left under artist ids with no artist row (an artist removed
    while its scan ran, a run over artists not in the list) lack the bookkeeping that says how complete they
    are: they go. Safe to run again (renumbered at a merge, say)."""
    if "removed_at" not in db["artists"].columns_dict:
        db.execute("ALTER TABLE artists ADD COLUMN removed_at REAL")
    for table in ("artist_tracks", "artist_albums"):
        db.execute(f"DELETE FROM {table} WHERE artist_id NOT IN (SELECT id FROM artists)")


def _migration_8(db: sqlite_utils.Database) -> None:
    """Releases get a notified state (esh_tui/delivery/notify.py): a digest that did not go out leaves its releases
    unnotified, for the next one. Releases found before count as notified: an upgrade sends no digest of the past.
    Safe to run again (renumbered at a merge, say)."""
    if "notified_at" not in db["releases"].columns_dict:
        db.execute("ALTER TABLE releases ADD COLUMN notified_at REAL")
    db.execute("UPDATE releases SET notified_at = first_seen_at WHERE notified_at IS NULL")


MIGRATIONS = {1: _migration_1, 2: _migration_2, 3: _migration_3, 4: _migration_4, 5: _migration_5,
              6: _migration_6, 7: _migration_7, 8: _migration_8}
SCHEMA_VERSION = max(MIGRATIONS)


@functools.cache
def new_store_schema(version: int) -> tuple[str, ...] | None:
    """The CREATE statements of a store migrated from nothing to `version`, in the order its migrations made each
    table and index: a new store is made with them at once. Migrating an empty store step by step is 240
    statements, sqlite-utils reading the schema before most (7 ms), and the suite and benchmarks make hundreds of
    stores a process. Taken from an in-memory store migrated once, so the migrations stay the one source. None when
    a migration leaves rows in a new store (defaults it seeds), which statements alone would not bring."""
    db = sqlite_utils.Database(memory=True)
    try:
        for target in range(1, version + 1):
            MIGRATIONS[target](db)
        if any(db.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone() for table in db.table_names()):
            return None
        rows = db.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' "
                          "ESCAPE '\\' ORDER BY rowid").fetchall()  # (SQLite makes its own tables itself)
    finally:
        db.close()
    return tuple(sql for (sql,) in rows)
