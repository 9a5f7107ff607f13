"""Markdown for a result file, and two result files side by side with ratios."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ENDPOINTS = ("GET /artists/{id}/albums", "GET /albums", "GET /albums/{id}", "GET /albums/{id}/tracks",
             "GET /tracks", "GET /tracks/{id}", "GET /search")


def _n(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _us(ms: float | None) -> str:
    return "-" if ms is None else f"{1000 * ms:.0f}"


def _table(header: list[str], rows: list[list[str]], right_from: int = 1) -> list[str]:
    align = ["---" if i < right_from else "---:" for i in range(len(header))]
    return ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"] + ["| " + " | ".join(r) + " |" for r in rows]


def _scenario_rows(scenarios: dict[str, Any]) -> list[tuple[str, dict]]:
    rows = []
    for key, label in (("cold", "cold"), ("hot_same_process", "hot, same process (+1 h)"),
                       ("hot", "hot, new process (+2 h)")):
        if key in scenarios:
            rows.append((label, scenarios[key]))
    for week, run in enumerate(scenarios.get("weekly") or [], 1):
        rows.append((f"week {week}", run))
    if "faulty" in scenarios:
        rows.append(("faulty (cold)", scenarios["faulty"]))
    return rows


def markdown(result: dict[str, Any]) -> str:
    t = result["transport"]
    lines = [f"# esh-tui benchmarks: {result['size']} catalog, {result['mode']} mode", "",
             f"Catalog seed {result['seed']}, {result['catalog_artists']:,} artists ({result['tracked_artists']:,} tracked), "
             f"today {result['today']}, releases of the last {result['days']} days. "
             f"Simulator: {t['kind']}, {t['latency_ms']:g} ms ± {t['jitter_ms']:g} ms latency. "
             f"Written {result['suite_wall_s']:.0f} s into the suite's run, finished {result['finished']}.", ""]
    s = result["scenarios"]
    if s:
        lines += ["## Scenarios (every optimization on)", ""]
        header = ["scenario", "API calls", "oracle min", "ratio", "calls / release", "redundant", "saved: single-flight",
                  "saved: shared in run", "saved: batching", "batch fill", "cache hit rate", "memory hits / misses",
                  "store hits / misses", "memory p50 / p95 µs", "store p50 / p95 µs", "connections", "wall s",
                  "peak RSS MB (+ growth in run)", "releases", "precision", "recall"]
        rows = []
        for label, r in _scenario_rows(s):
            c = r["cache"]
            mem = c["memory"]
            rows.append([label, _n(r["api_calls"]), _n(r["oracle_minimum"]), _n(r["ratio_to_minimum"]),
                         _n(r["calls_per_release"]), _n(r["redundant_requests"] + r["redundant_items"]),
                         _n(r["saved"]["single_flight"]), _n(r["saved"]["shared_in_run"]), _n(r["saved"]["batching"]),
                         _pct(r["batch"]["fill_ratio"]), _pct(c["hit_rate"]),
                         f"{mem['hits']:,} / {mem['misses']:,}" if mem else "off",
                         f"{c['store']['hits']:,} / {c['store']['misses']:,}",
                         f"{_us(mem['p50_ms'])} / {_us(mem['p95_ms'])}" if mem else "off",
                         f"{_us(c['store']['p50_ms'])} / {_us(c['store']['p95_ms'])}",
                         _n(r["connections_opened"]), _n(r["wall_s"]), f"{r['peak_rss_mb']:.0f} (+{r['rss_growth_mb']:.1f})", _n(r["releases"]),
                         _pct(r["correctness"]["precision"]), _pct(r["correctness"]["recall"])])
        if "weekly_total" in s:
            w = s["weekly_total"]
            rows.append([f"weekly total ({w['runs']} weeks)", _n(w["api_calls"]), _n(w["oracle_minimum"]),
                         _n(w["ratio_to_minimum"]), "-", _n(w["redundant_requests"])] + ["-"] * 10
                        + [_n(w["wall_s"]), "-", _n(w["releases"]), _pct(w["precision"]), _pct(w["recall"])])
        lines += _table(header, rows) + [""]
        endpoints = sorted({e for _, r in _scenario_rows(s) for e in r["calls_by_endpoint"]},
                           key=lambda e: (ENDPOINTS.index(e) if e in ENDPOINTS else 99, e))
        lines += ["API calls per endpoint:", ""]
        lines += _table(["scenario"] + endpoints,
                        [[label] + [_n(r["calls_by_endpoint"].get(e, 0)) for e in endpoints] for label, r in _scenario_rows(s)])
        lines.append("")
        if "faulty" in s:
            f = s["faulty"]
            w = f["world"]
            lines += [f"Faulty: {_pct(w['fault_rate'])} of requests fail ({w['faults']}), at most "
                      f"{w['rate_limit_per_30s']} requests per rolling 30 s, client timeout {w['client_timeout_s']:g} s. "
                      f"Status {f['status']}; {f['faults_injected']} faults injected, {f['retries']} retries; "
                      f"answers by status: " + ", ".join(f"{k}: {v}" for k, v in f["calls_by_status"].items()) + ".", ""]
    if "ablation" in result:
        lines += ablation_markdown(result["ablation"])
    return "\n".join(lines)


def ablation_markdown(ablation: dict[str, Any]) -> list[str]:
    t = ablation["transport"]
    lines = ["## Ablation: what each optimization contributes", "",
             f"Each configuration runs the same workload on a fresh {t['kind']} simulator "
             f"({t['latency_ms']:g} ms ± {t['jitter_ms']:g} ms latency):", "", ablation["workload"], "",
             "`naive` has every switch of `EngineOptions` off; `+ name` is naive with that one switched on. "
             "Configurations that send one request at a time ran "
             f"{ablation.get('concurrent_jobs', 1)} side by side, each with its own simulator; the others alone.", ""]
    header = ["configuration", "API calls, total", "× fewer than naive", "after cold", "× fewer than naive, after cold",
              "cold", "hot", "prefetch (idle)", "refresh after idle", "4 weekly", "cold / oracle min",
              "4 weekly / oracle min", "connections",
              "redundant", "saved: single-flight + shared", "saved: batching", "batch fill",
              "hot lookup p50 µs: memory / store", "cold wall s", "refresh wall s", "4 weekly wall s", "peak RSS MB",
              "recall (lowest)"]
    rows = []
    for r in ablation["rows"]:
        c, w, p = r["api_calls"], r["wall_s"], r["phases"]
        h = r["hot_lookups"]
        rows.append([f"`{r['config']}`", _n(r["api_calls_total"]), _n(r.get("fewer_calls_than_naive")),
                     _n(r.get("api_calls_after_cold")), _n(r.get("fewer_calls_than_naive_after_cold")), _n(c["cold"]),
                     _n(c["hot"]), _n(c["prefetch"]), _n(c["refresh"]), _n(c["weekly"]),
                     _n(p["cold"]["ratio_to_minimum"]), _n(r["weekly"]["ratio_to_minimum"]),
                     _n(r["connections_opened"]), _n(r["redundant_requests"] + r["redundant_items"]),
                     _n(r["saved"]["single_flight"] + r["saved"]["shared_in_run"]), _n(r["saved"]["batching"]),
                     _pct(r["batch_fill_ratio"]), f"{_us(h['memory_p50_ms']) if h['memory_p50_ms'] is not None else 'off'}"
                     f" / {_us(h['store_p50_ms'])}", _n(w["cold"]), _n(w["refresh"]), _n(w["weekly"]),
                     _n(r["peak_rss_mb"], 1), _pct(r["recall"])])
    return lines + _table(header, rows) + [""]


# ----- comparing two result files ----------------------------------------------------------------------------

def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return "-"
    if a == 0:
        return "=" if b == 0 else "new"
    return f"{b / a:.2f}x"


def compare(a_path: Path, b_path: Path) -> str:
    a, b = json.loads(a_path.read_text()), json.loads(b_path.read_text())
    lines = [f"# {a_path.name} vs {b_path.name}", "",
             f"A: {a['size']} {a['mode']}, {a['transport']['kind']} {a['transport']['latency_ms']:g} ms, "
             f"finished {a.get('finished', '?')}",
             f"B: {b['size']} {b['mode']}, {b['transport']['kind']} {b['transport']['latency_ms']:g} ms, "
             f"finished {b.get('finished', '?')}", ""]
    a_rows, b_rows = dict(_scenario_rows(a["scenarios"])), dict(_scenario_rows(b["scenarios"]))
    figures = (("API calls", lambda r: r["api_calls"]), ("redundant", lambda r: r["redundant_requests"]),
               ("connections", lambda r: r["connections_opened"]), ("wall s", lambda r: r["wall_s"]),
               ("peak RSS MB", lambda r: r["peak_rss_mb"]), ("recall", lambda r: r["correctness"]["recall"]))
    header = ["scenario"] + [f"{name}: A / B / B÷A" for name, _ in figures]
    rows = []
    for label in [k for k in a_rows if k in b_rows]:
        ra, rb = a_rows[label], b_rows[label]
        rows.append([label] + [f"{_n(get(ra))} / {_n(get(rb))} / {_ratio(get(ra), get(rb))}" for _, get in figures])
    lines += ["## Scenarios", ""] + _table(header, rows) + [""]
    if "ablation" in a and "ablation" in b:
        a_ab = {r["config"]: r for r in a["ablation"]["rows"]}
        b_ab = {r["config"]: r for r in b["ablation"]["rows"]}
        figures = (("API calls", lambda r: r["api_calls_total"]), ("cold wall s", lambda r: r["wall_s"]["cold"]),
                   ("connections", lambda r: r["connections_opened"]), ("recall", lambda r: r["recall"]))
        header = ["configuration"] + [f"{name}: A / B / B÷A" for name, _ in figures]
        rows = [[f"`{k}`"] + [f"{_n(get(a_ab[k]))} / {_n(get(b_ab[k]))} / {_ratio(get(a_ab[k]), get(b_ab[k]))}"
                              for _, get in figures] for k in a_ab if k in b_ab]
        lines += ["## Ablation", ""] + _table(header, rows) + [""]
    return "\n".join(lines)
