"""What the fetching costs: the cache, latency and API panels."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Sparkline, Static

from esh_tui.metrics import Snapshot


def _pct(hits: int, misses: int) -> str:
    total = hits + misses
    return f"{100 * hits / total:.0f}%" if total else "—"


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 1000:.0f}µs" if value < 1 else f"{value:.0f}ms"


class CachePanel(Static):
    def show(self, s: Snapshot) -> None:
        memory, store = s.tiers.get("memory", {}), s.tiers.get("store", {})
        asked = memory.get("hits", 0) + memory.get("misses", 0)
        answered = memory.get("hits", 0) + store.get("hits", 0)  # a store hit follows a memory miss
        overall = f"{100 * answered / asked:.0f}%" if asked else "—"
        self.update(
            f"[b]Cache[/b] {overall} hit · {_scope(s.scope)}\n"
            f"memory {_pct(memory.get('hits', 0), memory.get('misses', 0))} {memory.get('hits', 0)}/{asked}\n"
            f"store {_pct(store.get('hits', 0), store.get('misses', 0))} "
            f"{store.get('hits', 0)}/{store.get('hits', 0) + store.get('misses', 0)}\n"
            f"miss {store.get('misses', 0)} · evict {memory.get('evictions', 0)}\n"
            f"last runs {' '.join(s.recent_hit_rates) or '—'}",
            layout=False,  # fixed height (app.tcss): a new layout per refresh would re-render every widget
        )


class LatencyPanel(Vertical):
    def compose(self) -> ComposeResult:
        yield Static(id="latency-text")
        yield Sparkline([], id="latency-spark")

    def show(self, s: Snapshot) -> None:
        memory, store = s.tiers.get("memory", {}), s.tiers.get("store", {})
        self.query_one("#latency-text", Static).update(
            f"[b]Latency[/b] p50/p95\n"
            f"memory {_ms(memory.get('p50_ms'))}/{_ms(memory.get('p95_ms'))}\n"
            f"store {_ms(store.get('p50_ms'))}/{_ms(store.get('p95_ms'))}\n"
            f"API {_ms(s.api_p50_ms)}/{_ms(s.api_p95_ms)}",
            layout=False,
        )
        spark = self.query_one("#latency-spark", Sparkline)
        spark.data = list(s.latencies)
        spark.display = bool(s.latencies)  # no calls, no bars (an empty sparkline would draw a full one)


class ApiPanel(Static):
    """Seven short lines (they fit a third of 80 columns): what the calls the figures cover cost, and how."""

    def show(self, s: Snapshot) -> None:
        per_release = f"{s.api_calls / s.releases:.2f}" if s.releases else "—"
        top = f"top: {_short(s.by_endpoint[0][0])} {s.by_endpoint[0][1]}" if s.by_endpoint else "top: —"
        batching = f"batched {s.batching_saved}" if s.mode == "extended" else "no batching"
        in_flight = "in flight: its own pool" if s.in_flight is None else f"in flight {s.in_flight} · limit {s.bound}"
        if s.connections_seen:
            connections = f"conn {s.connections_opened} new · {s.connections_reused} reused"
        else:
            connections = "in-process: no network"
        self.update(
            f"[b]API[/b] {s.scope}\n"
            f"{s.api_calls} calls · {per_release}/release\n"
            f"{top}\n"
            f"shared {s.coalesced} · {batching}\n"
            f"429s {s.rate_limited} · retries {s.retries}\n"
            f"{in_flight}\n"
            f"{connections}",
            layout=False,
        )


def _scope(scope: str) -> str:
    """The run the figures cover, short enough for the panel's title line."""
    if scope == "no run yet":
        return "no run"
    return "live" if scope.endswith("(live)") else scope.split("'s ")[-1] if "'s " in scope else scope


def _short(template: str) -> str:
    """"GET /artists/{id}/albums" -> "artists/albums", "GET /albums" -> "albums": short, and never two alike."""
    parts = [p for p in template.split(" ", 1)[-1].split("/") if p and p != "{id}"]
    return "/".join(parts) if parts else template
