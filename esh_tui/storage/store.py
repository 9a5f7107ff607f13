"""The indexed SQLite store: everything esh-tui learns, kept so the next run costs almost nothing.

All SQL lives in this package. WAL mode and a busy timeout let a dashboard and
a cron run share the file; every artist is written in one transaction, so a
crash never leaves half an artist. A connection belongs to the thread that
made it: use a Store from one thread.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from esh_tui.models import (Album, Candidate, Earliest, KnownCapabilities, Learned, Release, RunEnd, ScanFindings,
                            TrackedArtist)
from esh_tui.files import kind_of
from esh_tui.storage import rollups
from esh_tui.storage.errors import StoreError, StoreNeedsMigration, store_error
from esh_tui.storage.migrations import (LOOKUP_INDEX, LOOKUP_INDEX_COLUMNS, MIGRATIONS, SCHEMA_VERSION,
                                       new_store_schema)

# The hottest query (an artist's cached releases); migrations.LOOKUP_INDEX is made for it.
CACHED_CANDIDATES_SQL = ("SELECT key, isrc, track_id, album_id, release_date FROM {table} "
                         "WHERE artist_id = ? AND release_date >= ? ORDER BY release_date DESC")
KNOWLEDGE_MARKET = "knowledge_market"  # in settings (not backed up): the market listings were learned for
KNOWLEDGE_FEATURES = "knowledge_appears_on"  # in settings (not backed up): listings include appears_on
KNOWLEDGE_KEYS = (KNOWLEDGE_MARKET, KNOWLEDGE_FEATURES)
FEATURES_GROUP = "appears_on"
# How long what was learned about an artist no longer tracked is kept (see `Store.start_run`): a month covers
# undoing a removal made by mistake, or re-adding an artist a re-import dropped, however rarely the user looks
# (a monthly cron run, a dashboard opened now and then); past that it is rows kept for nobody, and what a re-add
# then costs is small: ISRCs and earliest releases are kept forever, only the listing and album reads are redone.
REMOVED_KEPT_DAYS = 30
# The source of an artist row a run made for an artist not in the list (`track --artist ID`, `--playlist`):
# its scan's rows hang off it, and it is purged like a removed artist's.
SCANNED_SOURCE = "scanned"


# The schema read whole when the store is opened: damage in it is found there, where it is reported, not by a later
# query. SQLite takes bytes that are not UTF-8 for parts of names: a damaged byte can make a column whose name
# Python cannot decode (a traceback at the first SELECT *), or an error message that quotes them.
_READ_SCHEMA = "SELECT name, sql FROM sqlite_master"

class Store:
    def __init__(self, path: Path | str, busy_timeout_ms: int = 5000, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        if read_only:
            self._open_read_only(busy_timeout_ms)
            return
        if str(path) != ":memory:":
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # a file where the data directory should be, no permission, a full disk
                raise StoreError(f"cannot use the data directory {self.path.parent}: {exc.strerror}; "
                                 "set ESH_DATA_DIR to a directory you can write") from None
            _check_is_sqlite(self.path)
        try:
            conn = sqlite3.connect(str(path), timeout=busy_timeout_ms / 1000, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            if str(path) != ":memory:":
                _use_wal(conn, busy_timeout_ms / 1000)
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute(_READ_SCHEMA).fetchall()
            self.db = sqlite_utils.Database(conn)
            self._migrate()
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:  # the latter: SQLite's message quotes raw bytes
            raise store_error(exc, self.path) from None

    def _open_read_only(self, busy_timeout_ms: int) -> None:
        """For commands that only read (list, export, stats): a store whose file or directory is read-only opens,
        and nothing is written, not even a migration (StoreNeedsMigration: open it to write, then). SQLite's
        mode=ro with PRAGMA query_only; in a directory where SQLite cannot create the WAL's -shm file, immutable=1
        (what a crashed writer left in the -wal file is not seen then)."""
        _check_is_sqlite(self.path)
        if not self.path.is_file():
            raise StoreError(f"the store {self.path} does not exist yet")
        how = "mode=ro" if os.access(self.path.parent, os.W_OK) else "immutable=1"
        try:
            conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?{how}", uri=True, timeout=busy_timeout_ms / 1000,
                                   isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            conn.execute("PRAGMA query_only = ON")
            conn.execute(_READ_SCHEMA).fetchall()
            self.db = sqlite_utils.Database(conn)
            version = self.schema_version
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise store_error(exc, self.path) from None
        if version != SCHEMA_VERSION:
            self.close()
            if version > SCHEMA_VERSION:
                raise StoreError(f"the store {self.path} was written by a newer esh-tui (schema {version}); "
                                 "upgrade esh-tui")
            raise StoreNeedsMigration(f"the store {self.path} is from an older esh-tui (schema {version}); "
                                      "it is upgraded when opened to write")

    def close(self) -> None:
        self.db.conn.close()

    # ----- schema --------------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise StoreError(f"the store {self.path} was written by a newer esh-tui (schema {version}); upgrade esh-tui")
        if version == 0 and self._create():
            return
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self.transaction():
                if self.schema_version >= target:
                    continue  # another esh-tui opening the same new store migrated it first
                MIGRATIONS[target](self.db)
                self.db.execute(f"PRAGMA user_version = {target}")

    def _create(self) -> bool:
        """A new, empty store gets the schema its migrations would end in, at once. False when it is not empty
        (another esh-tui made it meanwhile, or it is a file esh-tui did not make) or when the migrations must run
        (see new_store_schema): the migrations then go step by step, as before."""
        schema = new_store_schema(SCHEMA_VERSION)  # (worked out before the write lock is taken)
        if schema is None:
            return False
        with self.transaction():
            if self.schema_version or self.db.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone():
                return False
            for sql in schema:
                self.db.execute(sql)
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        return True

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic write: all of it lands, or none of it."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise store_error(exc, self.path) from None
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")

    def _insert(self, table: str, rows: Iterable[dict[str, Any]], *, upsert_on: tuple[str, ...] = (),
                or_else: str = "") -> None:
        """Write rows with plain SQL (one statement per shape of row), inside the caller's transaction.

        sqlite-utils' insert_all/upsert_all read the schema on every call; on the hot paths (each artist's
        scan, each ISRC, call records) that was most of the time the dashboard's event loop was stalled.
        `upsert_on`: update the given columns of a row whose key exists; `or_else`: "REPLACE" or "IGNORE".
        """
        shapes: dict[tuple[str, ...], list[tuple]] = {}
        for row in rows:
            shapes.setdefault(tuple(row), []).append(tuple(row.values()))
        for columns, values in shapes.items():
            names = ", ".join(f'"{c}"' for c in columns)
            sql = f'INSERT {f"OR {or_else} " if or_else else ""}INTO {table} ({names}) VALUES ({", ".join("?" * len(columns))})'
            if upsert_on:
                updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c not in upsert_on)
                sql += f' ON CONFLICT ({", ".join(upsert_on)}) DO ' + (f"UPDATE SET {updates}" if updates else "NOTHING")
            self.db.conn.executemany(sql, values)

    def integrity_ok(self) -> bool:
        return self.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    def use_lookup_index(self, enabled: bool = True) -> None:
        """Create (or, for benchmarks, drop) the composite index of the cached-release lookup."""
        if enabled:
            self.db["artist_tracks"].create_index(LOOKUP_INDEX_COLUMNS, index_name=LOOKUP_INDEX, if_not_exists=True)
        else:
            self.db.execute(f"DROP INDEX IF EXISTS {LOOKUP_INDEX}")

    def query_plan(self, sql: str, params: Sequence[Any] = ()) -> str:
        return " | ".join(row[-1] for row in self.db.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall())

    # ----- artists ---------------------------------------------------------------------------------

    def add_artists(self, artists: Iterable[tuple[str, str, str]]) -> int:
        """Track (id, name, source) artists not tracked yet; returns how many are tracked now that were not.

        An artist removed earlier (or scanned by a run over artists not in the list) is tracked again with
        everything that was learned about it: while it is fresh, it costs no API call. A removed artist keeps
        its source and when it was first added; one only scanned takes this add's."""
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        with self.transaction():
            added = 0
            for artist_id, name, source in artists:
                added += self.db.execute(
                    "UPDATE artists SET removed_at = NULL, name = ?, "
                    "source = CASE WHEN source = ? THEN ? ELSE source END, "
                    "added_at = CASE WHEN source = ? THEN ? ELSE added_at END "
                    "WHERE id = ? AND removed_at IS NOT NULL",
                    (name, SCANNED_SOURCE, source, SCANNED_SOURCE, now, artist_id)).rowcount
                added += self.db.execute(
                    "INSERT OR IGNORE INTO artists (id, name, source, added_at) VALUES (?, ?, ?, ?)",
                    (artist_id, name, source, now)).rowcount
            return added

    def remove_artists(self, artist_ids: Iterable[str], now: float | None = None) -> int:
        """Stop tracking these artists; returns how many were tracked. What was learned about them is kept (a
        re-add restores it) for REMOVED_KEPT_DAYS, then purged at a run's start."""
        now = time.time() if now is None else now
        with self.transaction():
            return sum(self.db.execute("UPDATE artists SET removed_at = ? WHERE id = ? AND removed_at IS NULL",
                                       (now, artist_id)).rowcount for artist_id in dict.fromkeys(artist_ids))

    def removed_artist_ids(self, artist_ids: Iterable[str]) -> set[str]:
        """The ones among these that were tracked and removed, their knowledge kept (a re-add restores it); not
        those only ever scanned by a run over artists not in the list (their knowledge is kept too)."""
        ids = list(dict.fromkeys(artist_ids))
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            sql = (f"SELECT id FROM artists WHERE id IN ({','.join('?' * len(chunk))}) AND removed_at IS NOT NULL "
                   "AND source != ?")
            found.update(row[0] for row in self.db.execute(sql, [*chunk, SCANNED_SOURCE]))
        return found

    def artists(self, include_removed: bool = False) -> list[TrackedArtist]:
        """The tracked artists (`include_removed`: with those whose knowledge is kept though not tracked)."""
        return list(self.iter_artists(include_removed))

    def iter_artists(self, include_removed: bool = False) -> Iterator[TrackedArtist]:
        """As `artists`, read at once but made into objects as they are taken (the dashboard takes 10,000 of them
        a few hundred at a time, between frames)."""
        where = "" if include_removed else "WHERE removed_at IS NULL "
        cursor = self.db.execute(f"SELECT * FROM artists {where}ORDER BY name COLLATE NOCASE, id")
        names = [column[0] for column in cursor.description]
        return (TrackedArtist(**dict(zip(names, row))) for row in cursor.fetchall())

    def artist(self, artist_id: str, include_removed: bool = False) -> TrackedArtist | None:
        """A tracked artist (`include_removed`: or one not tracked whose knowledge is kept, for its scans)."""
        where = "" if include_removed else " AND removed_at IS NULL"
        rows = list(self.db.query(f"SELECT * FROM artists WHERE id = ?{where}", (artist_id,)))
        return TrackedArtist(**rows[0]) if rows else None

    def due_artist_ids(self, now: float) -> list[str]:
        sql = "SELECT id, next_due FROM artists WHERE (next_due IS NULL OR next_due <= ?) AND removed_at IS NULL"
        # two index searches
        return [row[0] for row in sorted(self.db.execute(sql, (now,)), key=lambda row: row[1] or 0.0)]

    def soon_due_artist_ids(self, now: float, until: float) -> list[str]:
        """Artists fresh now, due by `until`, and past half their freshness (so a refresh is never repeated at once):
        the shortest interval (most active) first, then soonest due."""
        sql = ("SELECT id, interval_hours, next_due FROM artists WHERE next_due > ? AND next_due <= ? "
               "AND next_due - ? <= interval_hours * 1800 AND removed_at IS NULL")
        rows = self.db.execute(sql, (now, until, now)).fetchall()
        return [row[0] for row in sorted(rows, key=lambda row: (row[1] or 0.0, row[2]))]

    def mark_failed(self, artist_id: str, reason: str) -> None:
        """Keep the artist due, with the reason, so the next run tries again."""
        with self.transaction():
            self.db.execute("UPDATE artists SET failed_reason = ?, next_due = NULL WHERE id = ?", (reason, artist_id))

    def add_artist_calls(self, calls: dict[str, int]) -> None:
        """API calls artists' checks spent (artist id -> calls), outside a run (a prefetch)."""
        with self.transaction():
            self._add_artist_calls(calls)

    def _add_artist_calls(self, calls: dict[str, int]) -> None:
        """Inside the caller's transaction: each one's last check cost this, and it adds to its total."""
        self.db.conn.executemany(
            "UPDATE artists SET last_scan_calls = ?, total_calls = coalesce(total_calls, 0) + ? WHERE id = ?",
            [(count, count, artist_id) for artist_id, count in calls.items()])

    # ----- one artist's scan: written whole, in one transaction -------------------------------------------

    def save_scan(self, scan: ScanFindings, fetched_at: float, next_due: float, profile: dict[str, Any]) -> None:
        """Everything one artist's scan learned, in one transaction: all of it, or none of it.

        Knowledge only grows: the scan's albums and candidates join what earlier scans found, whatever
        window they asked for; `scan.listed_back_to` says how far back the listing is now known complete."""
        artist_id = scan.artist_id
        with self.transaction():
            self._write_findings(scan, scan.albums, fetched_at)
            self.db.execute(
                "UPDATE artists SET last_checked = ?, next_due = ?, listed_back_to = ?, listing_total = ?, "
                "failed_reason = NULL, last_release = ?, releases_per_year = ?, frequency = ?, interval_hours = ?, "
                "partial_back_to = NULL WHERE id = ?",
                (fetched_at, next_due, scan.listed_back_to.isoformat(), scan.listing_total, profile.get("last_release"),
                 profile.get("releases_per_year"), profile.get("frequency"), profile.get("interval_hours"), artist_id))

    def save_partial_scan(self, scan: ScanFindings, listed: Sequence[Album], fetched_at: float,
                          track_lists: dict[str, list[Any]] | None = None) -> None:
        """What a scan stopped part way had finished, in one transaction: the albums whose tracks were all read
        (`scan.albums`, with their candidates) become known, every ISRC fetched is kept (`scan.tracks`, with
        the `listed` albums they are on), and the `track_lists` of albums read but not finished. The artist
        stays as complete and as due as it was: its listing was not finished. `scan.listed_back_to` is the
        stopped scan's cutoff: known albums from `partial_back_to` (the earliest such cutoff) on may have
        unread ones beside them."""
        with self.transaction():
            self._write_findings(scan, listed, fetched_at)
            self._insert("album_tracks", ({"album_id": album_id, "items": json.dumps(items, ensure_ascii=False),
                                           "fetched_at": fetched_at} for album_id, items in (track_lists or {}).items()),
                         or_else="REPLACE")
            if scan.albums:
                self.db.execute("UPDATE artists SET partial_back_to = min(coalesce(partial_back_to, ?), ?) WHERE id = ?",
                                (scan.listed_back_to.isoformat(), scan.listed_back_to.isoformat(), scan.artist_id))

    def _write_findings(self, scan: ScanFindings, listed: Iterable[Album], fetched_at: float) -> None:
        """A scan's rows, inside the caller's transaction: `listed` albums and the tracks read are kept for good;
        `scan.albums` become the artist's known albums, `scan.candidates` its candidates.

        Those always hang off an artist row, so none is ever left an orphan: an artist not in the list (a run
        over `track --artist ID` or a playlist, or one whose row was purged while its scan ran) gets a row
        that is not tracked (SCANNED_SOURCE, named by its id), purged like a removed artist's. A run reads
        what it filed back at once; a later run over it, while it is fresh, costs nothing."""
        artist_id = scan.artist_id
        self.db.execute("INSERT OR IGNORE INTO artists (id, name, source, added_at, removed_at) VALUES (?, ?, ?, ?, ?)",
                        (artist_id, artist_id, SCANNED_SOURCE, _iso(fetched_at), fetched_at))
        self._insert("albums", ({"id": a.id, "name": a.name, "album_type": a.album_type,
                                 "release_date": a.release_date.isoformat(), "noise": int(a.noise),
                                 "fetched_at": fetched_at} for a in listed), upsert_on=("id",))
        self._insert("tracks", ({"id": t.id, "isrc": t.isrc, "name": t.name, "album_id": t.album_id,
                                 "fetched_at": fetched_at,
                                 "artist_names": json.dumps(list(t.artist_names), ensure_ascii=False)}
                                for t in scan.tracks), upsert_on=("id",))
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO artist_albums (artist_id, album_id, album_group) VALUES (?, ?, ?)",
            [(artist_id, a.id, a.group) for a in scan.albums])
        self._insert("artist_tracks",
                     ({"artist_id": artist_id, "track_id": c.track_id, "key": c.key, "isrc": c.isrc,
                       "album_id": c.album_id, "release_date": c.release_date.isoformat(), "fetched_at": fetched_at}
                      for c in scan.candidates), or_else="REPLACE")

    def cached_candidates(self, artist_id: str, cutoff: dt.date, table: str = "artist_tracks") -> list[Candidate]:
        """`table`: for the storage benchmark, an unindexed copy of artist_tracks."""
        sql = CACHED_CANDIDATES_SQL.format(table=table)
        return [Candidate(k, i, t, a, dt.date.fromisoformat(d)) for k, i, t, a, d in self.db.execute(sql, (artist_id, cutoff.isoformat()))]

    def album_track_lists(self, album_ids: Sequence[str]) -> dict[str, list[Any]]:
        """Track lists (as Spotify sent them) of albums a stopped scan read but did not finish."""
        found: dict[str, list[Any]] = {}
        for start in range(0, len(album_ids), 500):
            chunk = album_ids[start:start + 500]
            sql = f"SELECT album_id, items FROM album_tracks WHERE album_id IN ({','.join('?' * len(chunk))})"
            found.update((album_id, json.loads(items)) for album_id, items in self.db.execute(sql, chunk))
        return found

    def known_album_ids(self, artist_id: str) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT album_id FROM artist_albums WHERE artist_id = ?", (artist_id,))}

    def feature_album_ids(self, artist_id: str) -> set[str]:
        """The artist's known albums that are other artists' (it appears on them: listed while features were on)."""
        sql = "SELECT album_id FROM artist_albums WHERE artist_id = ? AND album_group = ?"
        return {row[0] for row in self.db.execute(sql, (artist_id, FEATURES_GROUP))}

    def feature_only_keys(self, keys: Iterable[str]) -> set[str]:
        """The releases among these that tracked artists' scans have only on other artists' albums (features)."""
        keys = list(dict.fromkeys(keys))
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            sql = ("SELECT t.key FROM artist_tracks t JOIN artist_albums a ON a.artist_id = t.artist_id "
                   f"AND a.album_id = t.album_id WHERE t.key IN ({','.join('?' * len(chunk))}) "
                   "GROUP BY t.key HAVING max(a.album_group != ?) = 0")
            found.update(row[0] for row in self.db.execute(sql, [*chunk, FEATURES_GROUP]))
        return found

    def album_dates(self, artist_id: str) -> list[dt.date]:
        sql = ("SELECT albums.release_date FROM artist_albums JOIN albums ON albums.id = artist_albums.album_id "
               "WHERE artist_albums.artist_id = ?")
        return [dt.date.fromisoformat(row[0]) for row in self.db.execute(sql, (artist_id,))]

    # ----- what is known forever: tracks' ISRCs and ISRCs' earliest releases ------------------------------

    def track_isrcs(self, track_ids: Sequence[str]) -> dict[str, str | None]:
        found: dict[str, str | None] = {}
        for start in range(0, len(track_ids), 500):
            chunk = track_ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(self.db.execute(f"SELECT id, isrc FROM tracks WHERE id IN ({marks})", chunk).fetchall())
        return found

    def track_release(self, track_id: str) -> Release | None:
        """A track as its own release (for tracks without an ISRC), from what the store knows."""
        sql = ("SELECT tracks.id, tracks.isrc, tracks.name, tracks.artist_names, albums.id AS album_id, "
               "albums.name AS album_name, albums.album_type, albums.release_date FROM tracks "
               "JOIN albums ON albums.id = tracks.album_id WHERE tracks.id = ?")
        rows = list(self.db.query(sql, (track_id,)))
        if not rows:
            return None
        row = rows[0]
        return Release(key=row["isrc"] or f"track:{row['id']}", isrc=row["isrc"], track_id=row["id"],
                       track_name=row["name"] or "", artist_names=tuple(json.loads(row["artist_names"] or "[]")),
                       album_id=row["album_id"], album_name=row["album_name"], album_type=row["album_type"] or "",
                       release_date=dt.date.fromisoformat(row["release_date"]))

    def earliest(self, isrc: str) -> Earliest | None:
        """The earliest release known for an ISRC (exact, or only an upper bound)."""
        rows = list(self.db.query("SELECT * FROM isrc_earliest WHERE isrc = ?", (isrc,)))
        return Earliest(_earliest_release(rows[0]), bool(rows[0]["exact"])) if rows else None

    def save_earliest(self, found: Iterable[Earliest], fetched_at: float) -> None:
        self.save_progress(None, Learned(earliest=list(found)), fetched_at)

    # ----- releases found, runs, calls, cache statistics ----------------------------------------------------

    def release_state(self, key: str) -> tuple[bool, bool]:
        """(found by an earlier run, seen by the user) for one release."""
        row = self.db.execute("SELECT seen_at FROM releases WHERE key = ?", (key,)).fetchone()
        return (row is not None, row is not None and row[0] is not None)

    def unreported(self, keys: Iterable[str]) -> set[str]:
        """The keys among these that no earlier `--delta-only` output printed."""
        return self._not_stamped(keys, "reported_at")

    def unseen(self, keys: Iterable[str]) -> set[str]:
        """The keys among these the user has not marked seen (unknown keys count as unseen)."""
        return self._not_stamped(keys, "seen_at")

    def _not_stamped(self, keys: Iterable[str], column: str) -> set[str]:
        keys = list(dict.fromkeys(keys))
        stamped: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            sql = f"SELECT key FROM releases WHERE key IN ({','.join('?' * len(chunk))}) AND {column} IS NOT NULL"
            stamped.update(row[0] for row in self.db.execute(sql, chunk))
        return set(keys) - stamped

    def mark_reported(self, keys: Iterable[str], at: float | None = None) -> None:
        """Printed by a `--delta-only` run: call only once the output was written and flushed."""
        self._stamp("reported_at", keys, at)

    def mark_seen(self, keys: Iterable[str], at: float | None = None) -> None:
        self._stamp("seen_at", keys, at)

    def unnotified(self, keys: Iterable[str]) -> set[str]:
        """The keys among these that no notification digest has carried yet (unknown keys count as unnotified)."""
        return self._not_stamped(keys, "notified_at")

    def mark_notified(self, keys: Iterable[str], at: float | None = None) -> None:
        """Carried by a digest that went out: call only once it was sent."""
        self._stamp("notified_at", keys, at)

    def first_seen(self, keys: Iterable[str]) -> dict[str, float]:
        """When each of these releases was first found (the feeds' stable times); keys not found are left out."""
        keys, found = list(dict.fromkeys(keys)), {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            sql = f"SELECT key, first_seen_at FROM releases WHERE key IN ({','.join('?' * len(chunk))})"
            found.update((row[0], row[1]) for row in self.db.execute(sql, chunk))
        return found

    def _stamp(self, column: str, keys: Iterable[str], at: float | None) -> None:
        at = time.time() if at is None else at
        with self.transaction():
            self.db.conn.executemany(f"UPDATE releases SET {column} = ? WHERE key = ? AND {column} IS NULL",
                                     [(at, key) for key in dict.fromkeys(keys)])

    def save_progress(self, run_id: int | None, learned: Learned, at: float) -> None:
        """What a run learned beyond its artists' scans, in one transaction: ISRCs' earliest releases, releases
        found (with when), call records, what each artist's check cost. A run writes once per finished artist,
        not once per item: each commit costs, and many of them in a row held up the dashboard's event loop."""
        with self.transaction():
            self._add_artist_calls(learned.artist_calls)
            self._insert("isrc_earliest",
                         ({"isrc": e.release.isrc, **_release_columns(e.release), "exact": int(e.exact),
                           "popularity": e.release.popularity, "fetched_at": at}
                          for e in learned.earliest if e.release.isrc), upsert_on=("isrc",))
            self._insert("releases",
                         ({"key": f.release.key, "isrc": f.release.isrc, **_release_columns(f.release),
                           "found_for": json.dumps(list(f.release.found_for)), "first_seen_run": run_id,
                           "first_seen_at": f.found_at} for f in learned.releases), or_else="IGNORE")
            self._insert("api_calls",
                         ({"run_id": run_id, "at": c.at, "template": c.template, "status": str(c.status),
                           "latency_ms": c.latency_ms, "bytes": c.bytes, "retried": int(c.retried),
                           "new_connection": None if c.new_connection is None else int(c.new_connection)}
                          for c in learned.calls))
            if learned.cost is not None and run_id is not None:
                rollups.write(self.db, run_id, learned.cost)

    def releases_since(self, cutoff: dt.date, artist_ids: Iterable[str] | None = None) -> list[tuple[Release, bool]]:
        """Releases found by earlier runs on or after the cutoff, newest first, each with whether it is unseen."""
        return list(self.iter_releases_since(cutoff, artist_ids))

    def iter_releases_since(self, cutoff: dt.date, artist_ids: Iterable[str] | None = None
                            ) -> Iterator[tuple[Release, bool]]:
        """As `releases_since`, read at once (no statement is left open) but decoded as they are taken."""
        cursor = self.db.execute("SELECT * FROM releases WHERE release_date >= ? ORDER BY release_date DESC, key",
                                 (cutoff.isoformat(),))
        names = [column[0] for column in cursor.description]
        rows = cursor.fetchall()
        wanted = set(artist_ids) if artist_ids is not None else None
        for values in rows:
            row = dict(zip(names, values))
            release = _found_release(row)
            if wanted is not None and not wanted.intersection(release.found_for):
                continue
            yield release, row["seen_at"] is None

    def artist_releases(self, artist_id: str, cutoff: dt.date | None = None) -> list[tuple[Release, bool]]:
        """An artist's releases found by runs (on or after the cutoff, if one is given), newest first, each with
        whether it is unseen: those its scans have, also when another artist's scan reported them first. When
        what its scans learned is gone (another market) or not there yet, those found for it (a slower search)."""
        day = cutoff.isoformat() if cutoff is not None else ""
        if self.db.execute("SELECT 1 FROM artist_tracks WHERE artist_id = ? LIMIT 1", (artist_id,)).fetchone():
            sql = ("SELECT * FROM releases WHERE key IN (SELECT key FROM artist_tracks WHERE artist_id = ?) "
                   "AND release_date >= ? ORDER BY release_date DESC, key")
            rows = self.db.query(sql, (artist_id, day))
        else:  # found_for is a JSON list of ids (base62: nothing LIKE would take for a wildcard)
            sql = "SELECT * FROM releases WHERE release_date >= ? AND found_for LIKE ? ORDER BY release_date DESC, key"
            rows = self.db.query(sql, (day, f'%"{artist_id}"%'))
        return [(_found_release(row), row["seen_at"] is None) for row in rows]

    def versions_seen(self, key: str) -> list[dict[str, Any]]:
        """Every album a tracked artist's scans saw this recording on."""
        sql = ("SELECT DISTINCT albums.id, albums.name, albums.album_type, albums.release_date FROM artist_tracks "
               "JOIN albums ON albums.id = artist_tracks.album_id WHERE artist_tracks.key = ? ORDER BY albums.release_date")
        return list(self.db.query(sql, (key,)))

    def start_run(self, cutoff: dt.date, forced: bool, mode: str, artists: int, now: float | None = None) -> int:
        """Record a run as running. When no other run is going on, what was learned about artists not tracked
        for REMOVED_KEPT_DAYS before `now` is purged first, in the same transaction (so a run starting elsewhere
        either sees it gone or stops it: a scan never builds on rows purged under it)."""
        self.close_abandoned_runs()
        now = time.time() if now is None else now
        with self.transaction():
            running = self.db.execute("SELECT pid FROM runs WHERE status = 'running'").fetchall()
            if not any(process_alive(pid) for (pid,) in running):
                self._purge_removed(now - REMOVED_KEPT_DAYS * 86_400)
            return self.db["runs"].insert({"started_at": time.time(), "cutoff": cutoff.isoformat(), "forced": int(forced),
                                           "status": "running", "mode": mode, "artists": artists,
                                           "pid": os.getpid()}).last_pk

    def _purge_removed(self, before: float) -> int:
        """Forget artists not tracked since before `before`, their albums and candidates with them (albums,
        tracks, ISRCs' earliest releases and releases found are facts, kept whoever they were learned for)."""
        gone = [row[0] for row in self.db.execute("SELECT id FROM artists WHERE removed_at < ?", (before,))]
        for artist_id in gone:
            for table in ("artist_tracks", "artist_albums"):
                self.db.execute(f"DELETE FROM {table} WHERE artist_id = ?", (artist_id,))
            self.db.execute("DELETE FROM artists WHERE id = ?", (artist_id,))
        return len(gone)

    def close_abandoned_runs(self) -> int:
        """Runs still marked running whose process is gone (killed, or unable to write its end) become
        'interrupted': a record is never left running forever."""
        rows = self.db.execute("SELECT id, pid FROM runs WHERE status = 'running'").fetchall()
        gone = [run_id for run_id, pid in rows if not process_alive(pid)]
        if gone:
            with self.transaction():
                self.db.conn.executemany(
                    "UPDATE runs SET status = 'interrupted', message = 'the process ended before the run did' "
                    "WHERE id = ? AND status = 'running'", [(run_id,) for run_id in gone])
        return len(gone)

    def finish_run(self, end: RunEnd) -> None:
        with self.transaction():
            self.db["runs"].update(end.run_id, {
                "finished_at": time.time(), "status": end.status, "message": end.message, "api_calls": end.api_calls,
                "releases": end.releases, "new_releases": end.new_releases, "artists_fetched": end.artists_fetched,
                "mode": end.mode})

    def runs(self, limit: int = 10) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,)))

    def last_finished_run(self) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM runs WHERE status IN ('ok', 'partial') ORDER BY id DESC LIMIT 1"))
        return rows[0] if rows else None

    def run_cost(self, run_id: int) -> dict[str, Any] | None:
        """A run's cost as far as it has written it (rollups.py), with its calls by endpoint; None: nothing yet."""
        return rollups.run_cost(self.db, run_id)

    def calls_by_endpoint(self, run_id: int) -> dict[str, int]:
        return rollups.calls_by_endpoint(self.db, run_id)

    def cache_stats(self, run_id: int) -> dict[str, dict[str, Any]]:
        return rollups.cache_stats(self.db, run_id)

    def history(self, days: int, now: float | None = None) -> rollups.History:
        return rollups.history(self.db, days, time.time() if now is None else now)

    # ----- the daily API budget and what the next run would cost --------------------------------------------

    def budget_used(self, day: str) -> int:
        """API calls recorded for this local day (YYYY-MM-DD) by every run and prefetch of this store."""
        row = self.db.execute("SELECT calls FROM budget_days WHERE day = ?", (day,)).fetchone()
        return row[0] if row else 0

    def spend_budget(self, day: str, calls: int) -> int:
        """Add calls sent on `day`; returns the day's total (other processes' calls included)."""
        with self.transaction():
            self.db.execute("INSERT INTO budget_days (day, calls) VALUES (?, ?) "
                            "ON CONFLICT (day) DO UPDATE SET calls = calls + excluded.calls", (day, calls))
            return self.budget_used(day)

    def window_knowledge(self, cutoff: dt.date) -> tuple[int, int, int, int, dict[str, int]]:
        """What the store knows of `cutoff`'s window, for estimating a run's cost: (tracked artists listed back to it,
        their non-noise albums, candidate tracks and ISRCs in it, and per artist the ISRCs in it whose earliest
        release is not known yet)."""
        day = cutoff.isoformat()
        listed = self.db.execute("SELECT count(*) FROM artists WHERE listed_back_to <= ? AND removed_at IS NULL",
                                 (day,)).fetchone()[0]
        albums = self.db.execute(
            "SELECT count(*) FROM artist_albums JOIN albums ON albums.id = artist_albums.album_id "
            "JOIN artists ON artists.id = artist_albums.artist_id WHERE artists.listed_back_to <= ? "
            "AND artists.removed_at IS NULL AND albums.release_date >= ? AND albums.noise = 0",
            (day, day)).fetchone()[0]
        tracks, isrcs = self.db.execute(
            "SELECT count(*), count(DISTINCT artist_tracks.isrc) FROM artist_tracks JOIN artists "
            "ON artists.id = artist_tracks.artist_id WHERE artists.listed_back_to <= ? "
            "AND artists.removed_at IS NULL AND artist_tracks.release_date >= ?", (day, day)).fetchone()
        unresolved = dict(self.db.execute(
            "SELECT artist_id, count(DISTINCT artist_tracks.isrc) FROM artist_tracks LEFT JOIN isrc_earliest "
            "ON isrc_earliest.isrc = artist_tracks.isrc WHERE artist_tracks.release_date >= ? "
            "AND artist_tracks.isrc IS NOT NULL AND isrc_earliest.isrc IS NULL GROUP BY artist_id", (day,)).fetchall())
        return listed, albums, tracks, isrcs, unresolved

    # ----- capabilities and settings ------------------------------------------------------------------------

    def capabilities(self, api_url: str) -> KnownCapabilities | None:
        rows = list(self.db.query("SELECT batch, page_max FROM capabilities WHERE api_url = ?", (api_url,)))
        if not rows:
            return None
        batch = rows[0]["batch"]
        return KnownCapabilities(None if batch is None else bool(batch), rows[0]["page_max"])

    def save_capabilities(self, api_url: str, known: KnownCapabilities) -> None:
        batch = known.batch
        with self.transaction():
            self.db["capabilities"].upsert({"api_url": api_url, "batch": None if batch is None else int(batch),
                                            "page_max": known.page_max, "learned_at": time.time()}, pk="api_url")

    def save_setting(self, key: str, value: Any) -> None:
        """One setting kept with the store (and in its backups), such as the dashboard's theme."""
        with self.transaction():
            self.db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)",
                            (key, json.dumps(value, ensure_ascii=False)))

    def settings(self) -> dict[str, Any]:
        """The settings kept with the store. One whose value is not JSON (edited by hand, written by something
        else) counts as unset, and is replaced when it is next saved: it is no reason to give up the store."""
        found = {}
        for key, value in self.db.execute("SELECT key, CAST(value AS BLOB) FROM settings WHERE key NOT IN (?, ?)",
                                          KNOWLEDGE_KEYS):
            try:
                found[key] = json.loads(bytes(value).decode("utf-8"))
            except (UnicodeDecodeError, ValueError, TypeError):
                continue
        return found

    def use_appears_on(self, on: bool) -> bool:
        """Make the artists' listings fit whether features (appears_on) are listed; returns whether they changed.
        Turned on: every artist is listed again (what was learned is kept; only albums not known are read).
        Either way the listings' totals are forgotten: one with features counts other albums than one without,
        and a listing stops early when its total has not grown (see listing.py)."""
        row = self.db.execute("SELECT value FROM settings WHERE key = ?", (KNOWLEDGE_FEATURES,)).fetchone()
        if (json.loads(row[0]) if row else False) == on:
            return False
        with self.transaction():
            if on:
                self.db.execute("UPDATE artists SET listed_back_to = NULL, listing_total = NULL, next_due = NULL")
            else:
                self.db.execute("UPDATE artists SET listing_total = NULL")
            self.db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)",
                            (KNOWLEDGE_FEATURES, json.dumps(on)))
        return True

    def use_market(self, market: str | None) -> bool:
        """Make what is known about listings that market's (None: every market's editions). Artists' album
        listings and candidates and ISRCs' earliest releases depend on the market asked with; when it is not
        the one they were learned for, they are forgotten, and the next scans learn them again. Facts stay:
        albums, tracks' ISRCs, releases found and whether they were seen or reported. Returns whether
        anything was forgotten."""
        row = self.db.execute("SELECT value FROM settings WHERE key = ?", (KNOWLEDGE_MARKET,)).fetchone()
        if (json.loads(row[0]) if row else None) == market:
            return False
        with self.transaction():
            self.db.execute("UPDATE artists SET listed_back_to = NULL, listing_total = NULL, next_due = NULL")
            for table in ("artist_albums", "artist_tracks", "isrc_earliest"):
                self.db.execute(f"DELETE FROM {table}")
            self.db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)",
                            (KNOWLEDGE_MARKET, json.dumps(market)))
        return True

    def replace_artists_and_settings(self, artists: Sequence[dict[str, Any]], settings: dict[str, Any]) -> None:
        """Restore a backup: the artist list and settings become exactly these, atomically. Artists it leaves
        out are removed (what was learned about them is kept, as with any removal); those it names are tracked,
        with what the store knows about them."""
        now = time.time()
        with self.transaction():
            keep = {a["id"] for a in artists}
            for (artist_id,) in self.db.execute("SELECT id FROM artists WHERE removed_at IS NULL").fetchall():
                if artist_id not in keep:
                    self.db.execute("UPDATE artists SET removed_at = ? WHERE id = ?", (now, artist_id))
            for a in artists:
                self.db.execute(
                    "INSERT INTO artists (id, name, source, added_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET name = excluded.name, source = excluded.source, "
                    "added_at = excluded.added_at, removed_at = NULL",
                    (a["id"], a["name"], a["source"], a["added_at"]))
            self.db.execute("DELETE FROM settings WHERE key NOT IN (?, ?)", KNOWLEDGE_KEYS)
            for key, value in settings.items():
                if key in KNOWLEDGE_KEYS:
                    continue
                self.db.execute("INSERT INTO settings (key, value) VALUES (?, ?)", (key, json.dumps(value, ensure_ascii=False)))


def _iso(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.timezone.utc).isoformat(timespec="seconds")


def process_alive(pid: int | None) -> bool:
    if not pid:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        pass
    return True


def _release_columns(r: Release) -> dict[str, Any]:
    """The columns isrc_earliest and releases share."""
    return {"track_id": r.track_id, "track_name": r.track_name,
            "artist_names": json.dumps(list(r.artist_names), ensure_ascii=False), "album_id": r.album_id,
            "album_name": r.album_name, "album_type": r.album_type, "release_date": r.release_date.isoformat()}


def _found_release(row: dict[str, Any]) -> Release:
    """A row of the releases table as a Release."""
    return Release(key=row["key"], isrc=row["isrc"], track_id=row["track_id"], track_name=row["track_name"] or "",
                   artist_names=tuple(json.loads(row["artist_names"] or "[]")), album_id=row["album_id"] or "",
                   album_name=row["album_name"] or "", album_type=row["album_type"] or "",
                   release_date=dt.date.fromisoformat(row["release_date"]),
                   found_for=tuple(json.loads(row["found_for"] or "[]")))


def _earliest_release(row: dict[str, Any]) -> Release:
    return Release(key=row["isrc"], isrc=row["isrc"], track_id=row["track_id"], track_name=row["track_name"] or "",
                   artist_names=tuple(json.loads(row["artist_names"] or "[]")), album_id=row["album_id"] or "",
                   album_name=row["album_name"] or "", album_type=row["album_type"] or "",
                   release_date=dt.date.fromisoformat(row["release_date"]), popularity=row.get("popularity"))


def _use_wal(conn: sqlite3.Connection, timeout_s: float) -> None:
    """Switch to WAL, waiting for other esh-tuis as a write would. SQLite does not call the busy handler for
    this switch: two processes creating one new store at once saw "database is locked" at once."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


_SQLITE_MAGIC = b"SQLite format 3\x00"


def _check_is_sqlite(path: Path) -> None:
    """Refuse a file that is not an SQLite database before SQLite can touch it (a FIFO or a device would
    block it, or be read forever)."""
    kind = kind_of(path)
    if kind is not None:
        raise StoreError(f"the store {path} is {kind}, not a database file; move it aside "
                         f"(e.g. mv '{path}' '{path}.broken') and run again")
    try:
        with path.open("rb") as handle:
            head = handle.read(100)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(f"cannot read the store {path}: {exc.strerror}") from None
    if head and (len(head) < 100 or not head.startswith(_SQLITE_MAGIC)):
        raise StoreError(f"the store {path} is not an esh-tui database (damaged or truncated); "
                         f"move it aside (e.g. mv '{path}' '{path}.broken') and run again")
