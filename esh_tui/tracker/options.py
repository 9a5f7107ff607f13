"""Engine options: each optimization as a switch, so benchmarks can measure it on and off.

The defaults are how esh-tui always runs; `EngineOptions.naive()` switches
everything off (a new connection per request, no batching, no memory tier, one
request at a time, a fixed 24 h freshness, no single-flight, no composite
index, no prefetching, every run from scratch, every page of every artist's
albums listed). These are real configuration of
the client, cache, store and tracker, not a separate implementation.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from esh_tui.storage.ttl import TtlPolicy

FIXED_TTL = TtlPolicy(recent_hours=24, active_hours=24, quiet_hours=24)


@dataclass(frozen=True)
class EngineOptions:
    pooling: bool = True  # keep-alive connections, reused (off: a new TCP connection per request)
    batching: bool = True  # batch endpoints and ids shared across artists (off: one call per item)
    memory_tier: bool = True  # the in-process cache in front of the store (off: every lookup reads SQLite)
    parallel_artists: bool = True  # artists and their albums concurrently (off: one request at a time)
    activity_ttl: bool = True  # freshness follows activity: 6 h / 24 h / 7 days (off: 24 h for everyone)
    single_flight: bool = True  # identical concurrent GETs share one request (off: each is sent)
    composite_index: bool = True  # idx_artist_tracks_lookup on the cached-release query (off: dropped)
    prefetch: bool = True  # refresh soon-due artists while idle (consulted by whoever runs a Prefetcher)
    incremental: bool = True  # stop listing at known albums, never re-read them (off: rescan the window)
    listing_cutoff: bool = True  # page an artist's albums only down to the cutoff, group by group (off: every page)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def naive(cls) -> "EngineOptions":
        return cls(**{name: False for name in cls.names()})

    @classmethod
    def only(cls, *names: str) -> "EngineOptions":
        """The naive baseline with just these optimizations switched on."""
        unknown = set(names) - set(cls.names())
        if unknown:
            raise ValueError(f"unknown engine options {sorted(unknown)}; choose from {', '.join(cls.names())}")
        return replace(cls.naive(), **{name: True for name in names})

    def enabled(self) -> tuple[str, ...]:
        return tuple(name for name in self.names() if getattr(self, name))

    def label(self) -> str:
        on = self.enabled()
        if len(on) == len(self.names()):
            return "all"
        return "+".join(on) if on else "naive"

    # ----- how each part is built ------------------------------------------------------------------

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `SpotifyClient`."""
        kwargs: dict[str, Any] = {"pooling": self.pooling, "batching": self.batching,
                                  "single_flight": self.single_flight}
        if not self.parallel_artists:
            kwargs.update(concurrency=1, max_concurrency=1)
        return kwargs

    def ttl_policy(self) -> TtlPolicy:
        return TtlPolicy() if self.activity_ttl else FIXED_TTL

    def cache_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `ReleaseCache` (a memory size of 0 turns the memory tier off)."""
        kwargs: dict[str, Any] = {"policy": self.ttl_policy()}
        if not self.memory_tier:
            kwargs["memory_size"] = 0
        return kwargs

    def apply_to_store(self, store: Any) -> None:
        """The store's side: with `composite_index` off the lookup index is dropped (on: created if missing)."""
        store.use_lookup_index(self.composite_index)
