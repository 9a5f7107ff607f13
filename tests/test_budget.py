"""The daily API budget: a cold start that does not fit in a day is planned over several, within the budget."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from esh_tui.cli import main
from esh_tui.config import ConfigError, Settings, describe, load_settings
from esh_tui.sim import oracle
from esh_tui.sim.api import SimConfig, SimSpotify
from esh_tui.sim.transport import SimTransport
from esh_tui.spotify.client import SpotifyClient
from esh_tui.storage.cache import ReleaseCache
from esh_tui.storage.store import Store
from esh_tui.tracker.engine import Tracker
from esh_tui.tracker.plan import ArtistCost, BudgetSpentError, DailyBudget, Plan, plan_run
from esh_tui.tracker.prefetch import Prefetcher

from conftest import fresh_catalog

START = 1_800_000_000.0


class World:
    """A simulated Spotify and an esh-tui store whose clock moves a day at a time; each run is one process."""

    def __init__(self, catalog, mode, path):
        self.catalog, self.path, self.now = catalog, path, START
        self.sim = SimSpotify(catalog, SimConfig(mode=mode), clock=lambda: self.now)
        self.ids = [a.id for a in catalog.real_artists()]

    async def run(self, limit=None, estimates=None):
        """(the plan said before the run, the result, calls the simulator answered, calls the budget counted)."""
        store = Store(self.path)
        store.add_artists((i, self.catalog.artists[i].name, "test") for i in self.ids)
        settings = Settings(data_dir=self.path.parent, client_id="test", client_secret="test-secret")
        before = self.sim.calls()
        async with SpotifyClient(settings, SimTransport(self.sim), clock=lambda: self.now) as client:
            budget = DailyBudget(store, limit, clock=lambda: self.now)
            tracker = Tracker(client, store, ReleaseCache(store, clock=lambda: self.now),
                              today=lambda: self.catalog.today, budget=budget)
            if estimates is not None:
                tracker.plan = estimates(tracker.plan)
            cutoff = self.catalog.today - dt.timedelta(days=90)
            plan = tracker.plan(cutoff, self.ids)
            result = await tracker.run(cutoff, self.ids)
            used = budget.used
        store.close()
        return plan, result, self.sim.calls() - before, used


@pytest.mark.parametrize("mode", ["development", "extended"])
async def test_a_cold_start_at_40_percent_a_day_completes_in_three_days_exactly_for_about_one_clean_run(tmp_path, mode):
    clean = World(fresh_catalog(1, 100), mode, tmp_path / "clean.db")
    _, clean_result, clean_calls, _ = await clean.run()
    assert clean_result.status == "ok"
    limit = int(clean_calls * 0.4)
    world = World(fresh_catalog(1, 100), mode, tmp_path / "esh.db")
    total = fetched = 0
    days = []
    for day in range(3):
        plan, result, calls, used = await world.run(limit)
        days.append((plan, result, calls))
        total, fetched = total + calls, fetched + result.artists_fetched
        assert calls == used <= limit, f"day {day + 1}: {calls} calls within a budget of {limit}"
        if result.status == "ok":
            break
        assert result.status == "budget" and result.deferred
        assert "stay due (about" in result.message and "run again tomorrow" in result.message
        world.now += 86400  # the next day: the simulator's clock and esh-tui's
    first_plan = days[0][0]
    assert first_plan.total >= clean_calls * 0.9 and "tomorrow" in first_plan.describe()
    assert result.status == "ok", f"not done after three days: {[d[1].message for d in days]}"
    expected = oracle.expected_releases(world.catalog, world.ids, world.catalog.today - dt.timedelta(days=90))
    assert {r.key for r in result.releases} == set(expected)
    assert {r.key for r in result.releases} == {r.key for r in clean_result.releases}
    # Artists checked on day 1 or 2 with a 6 or 24 h freshness are due again on day 3: one listing page each,
    # which a single run does not need. Apart from those, the three days cost what one clean run does.
    rechecks = fetched - len(world.ids)
    assert total <= clean_calls * 1.03 + rechecks, (total, clean_calls, rechecks)
    print(f"\n{mode}: clean run {clean_calls} calls; budget {limit}/day; days "
          f"{[d[2] for d in days]} = {total} ({100 * (total / clean_calls - 1):+.1f}%), "
          f"{rechecks} re-checks of artists due again by their freshness; first estimate {first_plan.total}")


async def test_a_request_past_the_budget_is_never_sent_however_wrong_the_estimates(tmp_path):
    world = World(fresh_catalog(2, 30), "development", tmp_path / "esh.db")

    def too_cheap(plan):  # every artist "costs" a tenth of a call: only the hard stop holds the budget
        def estimate(*args, **kwargs):
            real = plan(*args, **kwargs)
            return Plan(tuple(ArtistCost(c.artist_id, 0.1) for c in real.costs), real.limit, real.used)
        return estimate

    _, result, calls, used = await world.run(limit=25, estimates=too_cheap)
    assert result.status == "budget" and result.retry_after > 0
    assert calls <= 25 + 32, "the budget, and at most the requests already in flight (the client's bound)"
    assert used == calls and "daily budget reached (" in result.message
    store = Store(world.path)
    assert len(store.due_artist_ids(world.now)) > 20, "what was not checked stays due"
    assert store.runs(1)[0]["status"] == "budget"
    store.close()
    _, again, calls_again, _ = await world.run(limit=25)
    assert again.status == "budget" and calls_again == 0, "the day's budget is spent: nothing is sent"
    world.now += 86400
    _, tomorrow, calls_tomorrow, _ = await world.run(limit=10_000)
    assert tomorrow.status == "ok" and calls_tomorrow > 0


def test_the_budget_is_one_count_per_local_day_shared_by_every_process(tmp_path):
    now = [START]
    first, second = Store(tmp_path / "esh.db"), Store(tmp_path / "esh.db")
    a, b = DailyBudget(first, 100, clock=lambda: now[0]), DailyBudget(second, 100, clock=lambda: now[0])
    for _ in range(30):
        a.count()
    a.flush()
    for _ in range(60):
        b.count()
    b.flush()  # another process's calls are seen when this one writes its own
    assert b.used == 60 + 30 and b.left == 10
    assert DailyBudget(first, 100, clock=lambda: now[0]).used == 90
    for _ in range(10):
        b.count()
    with pytest.raises(BudgetSpentError, match="daily budget of 100 API calls is used up"):
        b.check()
    now[0] += 86400
    assert b.used == 0 and b.left == 100, "a new day, a new budget"
    b.check()
    assert first.budget_used(dt.datetime.fromtimestamp(START).date().isoformat()) == 100
    assert DailyBudget(first, 0).limit is None and DailyBudget(first, None).left is None
    first.close(), second.close()


async def test_admission_reserves_each_running_artists_estimate_and_says_no_to_what_does_not_fit(tmp_path):
    store = Store(tmp_path / "esh.db")
    budget = DailyBudget(store, 100, clock=lambda: START)
    assert await budget.admit("a", 20) and await budget.admit("b", 10)  # 3 × (20 + 10) = 90 of 100
    waiting = asyncio.ensure_future(budget.admit("c", 10))
    await asyncio.sleep(0)
    assert not waiting.done(), "it waits for a running artist to finish"
    assert await budget.admit("fresh", 0), "an artist the store answers costs nothing"
    budget.release("a")
    assert await waiting
    budget.release("b"), budget.release("c")
    for _ in range(80):
        budget.count()
    assert not await budget.admit("d", 10), "3 × 10 more does not fit in the 20 left: it stays due"
    assert await budget.admit("e", 5)
    assert await DailyBudget(store, None).admit("f", 10 ** 6), "no budget, no limit"
    store.close()


async def test_most_active_first_then_longest_unchecked_and_never_listed_before_all(tmp_path):
    world = World(fresh_catalog(1, 30), "development", tmp_path / "esh.db")
    await world.run()
    store = Store(world.path)
    store.add_artists([("newcomer", "Newcomer", "test")])
    world.now += 8 * 86400  # everyone is due
    rows = {a.id: a for a in store.artists()}
    cutoff = world.catalog.today - dt.timedelta(days=90)
    plan = plan_run(store, cutoff, mode="development", now=world.now, today=world.catalog.today)
    order = [c.artist_id for c in plan.costs]
    assert order[0] == "newcomer", "an artist never listed first: none of its releases is known"
    keys = [(rows[i].interval_hours, rows[i].last_checked) for i in order[1:]]
    assert keys == sorted(keys), "then the most active (shortest freshness), then the longest unchecked"
    assert {rows[i].interval_hours for i in order[1:]} >= {6, 24, 168}
    cold = plan.costs[0].calls
    assert all(c.calls < cold for c in plan.costs[1:]), "a re-check costs less than a first listing"
    world.now = START + 3600
    fresh = plan_run(store, cutoff, mode="development", now=world.now, today=world.catalog.today)
    assert [c.artist_id for c in fresh.due] == ["newcomer"], "fresh artists cost nothing"
    store.close()


def test_the_estimate_says_what_fits_today_and_what_waits(tmp_path):
    costs = tuple(ArtistCost(f"a{i}", 10.0) for i in range(400)) + (ArtistCost("fresh", 0.0),)
    assert Plan(costs).describe() == "about 4,000 API calls for 400 artists"
    assert Plan(costs, 5000, 100).describe() == "about 4,000 API calls for 400 artists; your budget left today is 4,900 of 5,000"
    assert Plan(costs, 2500, 500).describe() == (
        "about 4,000 API calls for 400 artists; your budget left today is 2,000 of 2,500: "
        "the 200 most active artists now, the rest (200) tomorrow")
    assert Plan(costs, 100, 100).describe().endswith("your budget left today is 0 of 100: all of them tomorrow")
    now, later = Plan((ArtistCost("a", 5.0), ArtistCost("b", 50.0), ArtistCost("c", 1.0)), 10).split()
    assert [c.artist_id for c in now] == ["a"] and [c.artist_id for c in later] == ["b", "c"], "in order"


async def test_prefetching_draws_from_the_same_daily_budget(tmp_path):
    world = World(fresh_catalog(1, 30), "development", tmp_path / "esh.db")
    await world.run()
    world.now += 5 * 3600  # the 6-hour artists are due within the hour
    store = Store(world.path)
    settings = Settings(data_dir=tmp_path, client_id="t", client_secret="t")
    async with SpotifyClient(settings, SimTransport(world.sim), clock=lambda: world.now) as client:
        spent = DailyBudget(store, None, clock=lambda: world.now).used  # the cold run's, the same day
        budget = DailyBudget(store, spent + 8, clock=lambda: world.now)
        tracker = Tracker(client, store, ReleaseCache(store, clock=lambda: world.now),
                          today=lambda: world.catalog.today, budget=budget)
        prefetcher = Prefetcher(tracker, lambda: world.catalog.today - dt.timedelta(days=90),
                                budget_per_minute=1000, horizon_hours=6, clock=lambda: world.now)
        assert len(prefetcher.next_up()) > 2
        refreshed = await prefetcher.run_once()
        assert 0 < refreshed < len(prefetcher.next_up()) + refreshed, "the daily budget stops it"
        assert 0 < prefetcher.calls == budget.used - spent <= 8
    assert store.budget_used(budget.today()) == budget.used, "written to the store, for the runs to see"
    store.close()


def test_daily_budget_setting_is_checked_and_shown(tmp_path):
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    env = {"ESH_DATA_DIR": str(tmp_path / "data"), "ESH_CONFIG_DIR": str(config)}
    assert load_settings(env, cwd=tmp_path).tuning.daily_budget == 0
    (config / "config.toml").write_text("[network]\ndaily_budget = 2000\n")
    settings = load_settings(env, cwd=tmp_path)
    assert settings.tuning.daily_budget == 2000
    line = next(line for line in describe(settings) if line.name == "[network] daily_budget")
    assert line.value == "2000" and "config.toml" in line.source
    for bad in ("-1", "1.5", '"lots"', "true"):
        (config / "config.toml").write_text(f"[network]\ndaily_budget = {bad}\n")
        with pytest.raises(ConfigError, match="daily_budget"):
            load_settings(env, cwd=tmp_path)


def test_track_with_a_budget_says_the_estimate_stops_with_exit_3_and_stats_shows_the_day(monkeypatch, capsys):
    assert main(["track", "--budget", "30", "--format", "tsv"]) == 3
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "budget" in line]
    assert lines[0].startswith("esh-tui: about ") and "your budget left today is 30 of 30" in lines[0]
    assert "tomorrow" in lines[0]
    used = int(lines[-1].split("(")[1].split(" of ")[0])
    said = "daily budget reached (" if used >= 30 else "the rest does not fit today's budget ("
    assert lines[-1].startswith(f"esh-tui: {said}") and "stay due (about" in lines[-1]
    assert main(["stats"]) == 0
    out = capsys.readouterr().out
    assert "no daily budget" in out and out.startswith("budget: ") and "API calls used today" in out
    assert "\nnext run: about " in out
    with pytest.raises(SystemExit) as exit_:
        main(["track", "--budget", "abc"])
    assert exit_.value.code == 2 and "--budget" in capsys.readouterr().err


def test_without_a_budget_nothing_is_refused(tmp_path):
    store = Store(tmp_path / "esh.db")
    budget = DailyBudget(store, 0)
    budget.check()
    assert budget.left is None and Plan((ArtistCost("a", 3.0),)).left is None
    store.close()
