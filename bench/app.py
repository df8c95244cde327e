"""Benchmark the app's responsiveness: start-up, first renders and reruns.

    .venv/bin/python bench/app.py [--parts start,browser,apptest] [--data demo,online_retail]
                                  [--repeat N] [--cold-repeat N] [--profile]

start: whole processes, each run from its start to its exit (median of 7, in turn): `python
-m salesml --help` and `train --help` against `python -c pass` (the interpreter alone) and
against the imports `--help` paid before each command imported its own modules (pandas,
SQLAlchemy, salesml.ingest, salesml.series), measured in the same run.

browser: a fresh `python -m salesml serve` on the demo data (`python -m salesml demo` in a
temporary directory, with its ready model), driven by Debian's Chromium through Playwright,
--cold-repeat times: the server's start to its health check; page.goto to the Overview drawn
and settled (its title and chart shown, the script run finished, the status widget gone, the
browser painted) in the server's first session, then in a second tab, each a new browser
context with an empty cache (baseline: page.goto alone, until the load event: Streamlit's
frontend fetched and started, before any salesml code runs for the session); the Forecast page's
first visit; and each release of a key on its horizon slider (ArrowRight, End, ArrowLeft) to
the page naming the new horizon and settled, split at the periods the model precomputed.

apptest: for each data set (the demo data; ../shared/data/online_retail.parquet, 541,909 lines), in
a fresh SQLite database with one small saved model and one stored forecast, it prints the
wall-clock milliseconds of:

- the first render of every page: a new session (a fresh AppTest opened straight on the
  page, as a browser tab opening its URL) in a warm process (every module imported by an
  untimed pass over all pages first) with cold caches (st.cache_data and st.cache_resource
  cleared, so the engine is created and migrated, the model read from disk and every query
  run). Timed: the single `AppTest.run()` that draws the page;
- the rerun after an Explorer filter change, each change to a state not seen before (so
  its queries miss the cache, as a user's new choice does);
- the rerun after a move of the Forecast page's horizon slider, split at the periods the
  saved model precomputed when it was fitted (beyond them it forecasts on each move).

Beside each figure is a baseline measured in the same run: the salesml calls the page makes
(the queries that miss the cache, the forecast, the Altair charts), timed directly without
Streamlit. The page script's own time (Streamlit's script thread) is shown too: page minus
script is AppTest's parsing of the messages, which a real server does not do; script minus
baseline is Streamlit's share (widgets, caching, chart serialisation).
With --profile, every action that misses its target is run again under cProfile (the
script thread, where the page runs) and the top functions are printed.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import os
import platform
import pstats
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# Run as a script, so the project root is not on sys.path by itself.
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from streamlit import logger as st_logger  # noqa: E402
from streamlit.components.v2.component_manager import BidiComponentManager  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402
from streamlit.testing.v1.local_script_runner import LocalScriptRunner  # noqa: E402

from salesml import analytics, charts, db, predictions, registry, scenarios, training  # noqa: E402
from salesml.analytics import Filters  # noqa: E402
from salesml.demo import load_demo  # noqa: E402
from salesml.ingest import ingest_file  # noqa: E402
from salesml.series import load_series  # noqa: E402
from salesml.ui.pages import PAGES as APP_PAGES  # noqa: E402
from salesml.views import View  # noqa: E402

APP = PROJECT_ROOT / "app.py"
DATA_FILE = Path(__file__).resolve().parents[2] / "shared" / "data" / "online_retail.parquet"
SECRETS = {"SALESML_BENCH": "isolated"}  # keeps a local .streamlit/secrets.toml out
TIMEOUT_SECONDS = 300
# Page label (its st.title) -> file: the app's pages but Team, which draws no sales figures.
PAGES = {page.title: page.path for page in APP_PAGES if page.action != "manage"}
# The Explorer's "Products shown" slider at its start.
TOP_N = 10
PARTS = ("start", "browser", "apptest")
FIRST_RENDER_TARGET_MS = 3000.0
FILTER_TARGET_MS = 1000.0
SLIDER_TARGET_MS = 300.0
# From the trained 6, within and past the periods the model precomputed when it was fitted.
HORIZON_MOVES = (7, 9, 12, 3, 10, 15, 18, 24, 30, 36)
CHANGES_PER_FILTER = 5
# The Explorer's queries (salesml.analytics names) and those each kind of change misses:
# the catalogue (the filters' choices) is read once; a filter change runs the summary and
# the top products; a grain change queries nothing.
EXPLORER_QUERIES = ("catalogue", "summarise", "top_products")
FILTERED = frozenset({"summarise", "top_products"})
MISSES = {
    "dates": FILTERED,
    "products": FILTERED,
    "categories": FILTERED,
    "grain": frozenset(),
}


@dataclass(frozen=True)
class DataSet:
    """A data set to measure on: how to load it and the small model to save for it."""

    name: str
    load: Callable[[Engine], object]
    request: training.TrainRequest


def _load_online_retail(engine: Engine) -> object:
    return ingest_file(engine, DATA_FILE)


DATASETS = {
    "demo": DataSet(
        "demo",
        load_demo,
        training.TrainRequest(
            level="category", freq="M", horizon=6, models=("snaive", "ets"), windows=1
        ),
    ),
    "online_retail": DataSet(
        "online retail (541,909 lines)",
        _load_online_retail,
        training.TrainRequest(
            level="total", freq="M", horizon=6, models=("snaive", "ets"), windows=1
        ),
    ),
}


# --------------------------------------------------------------------------- set-up


@dataclass
class Bench:
    """One prepared data set: its database, model and what the measurements need to know."""

    root: Path
    engine: Engine  # the benchmark's own engine, for the baselines
    model: object
    record: db.SavedModel
    history: pd.DataFrame
    first: dt.date
    last: dt.date
    categories: list[str]
    top_products: list[str]

    @property
    def url(self) -> str:
        """The SQLite URL of the data set's database."""
        return sqlite_url(self.root)

    @property
    def series(self) -> str:
        """The series the Forecast page shows first."""
        return self.model.ids_[0]


def sqlite_url(root: Path) -> str:
    """The URL of the database file in a data set's directory."""
    return f"sqlite:///{root / 'app.db'}"


def build(data: DataSet, root: Path) -> None:
    """Load the data into a new database, train and save the model, store one forecast."""
    engine = db.create_engine_for(sqlite_url(root))
    try:
        db.init_db(engine)
        data.load(engine)
        result = training.train(engine, data.request)
        record = training.save(engine, result, data.request, model_dir=root / "models")
        model, _ = registry.load_model(engine, record.id, model_dir=root / "models")
        # A stored run, so the Predictions page draws its tables and chart.
        predictions.store_forecast(
            engine, predictions.forecast_frame(model, record.horizon), record
        )
    finally:
        engine.dispose()


def point_app_at(root: Path) -> None:
    """Point the app's settings at the data set's database and model directory."""
    os.environ["SALESML_DATABASE_URL"] = sqlite_url(root)
    os.environ["SALESML_DATA_DIR"] = str(root)
    for name in ("SALESML_MODEL_DIR", "SALESML_MAX_UPLOAD_MB"):
        os.environ.pop(name, None)


def open_bench(root: Path) -> Bench:
    """What the measurements need to know about a built data set."""
    engine = db.create_engine_for(sqlite_url(root))
    (record,) = registry.list_models(engine)
    model, _ = registry.load_model(engine, record.id, model_dir=root / "models")
    first, last = analytics.date_range(engine)
    top = analytics.top_products(engine, Filters(), n=CHANGES_PER_FILTER)
    return Bench(
        root=root,
        engine=engine,
        model=model,
        record=record,
        history=load_series(
            engine, level=record.level, freq=record.freq, target=record.target
        ).frame,
        first=first,
        last=last,
        categories=analytics.categories(engine),
        top_products=top["product_name"].tolist(),
    )


@contextmanager
def fresh_engine(url: str) -> Iterator[Engine]:
    """A new engine with the schema checked, as the app makes one on a cold cache."""
    engine = db.create_engine_for(url)
    try:
        db.init_db(engine)
        yield engine
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- driving the app


@cache
def components() -> BidiComponentManager:
    """One component registry for every session, as a server builds it once at start-up."""
    manager = BidiComponentManager()
    manager.discover_and_register_components(start_file_watching=False)
    return manager


class ScriptClock:
    """Times, and on request profiles, the page scripts AppTest runs in their own thread."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.profiler: cProfile.Profile | None = None

    @property
    def last_ms(self) -> float:
        """Milliseconds of the latest script run."""
        return self.seconds[-1] * 1000

    def install(self) -> None:
        """Wrap AppTest's script thread so every run is timed (and profiled when asked)."""
        original = LocalScriptRunner._run_script_thread

        def run(runner: LocalScriptRunner) -> None:
            profiler = self.profiler
            start = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            try:
                original(runner)
            finally:
                if profiler is not None:
                    profiler.disable()
                self.seconds.append(time.perf_counter() - start)

        LocalScriptRunner._run_script_thread = run


CLOCK = ScriptClock()


def clear_caches() -> None:
    """Forget every cached engine, model and query result, as after a process start."""
    st.cache_data.clear()
    st.cache_resource.clear()


def new_session(page: str) -> AppTest:
    """A new browser session opened straight on a page (not run yet)."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_SECONDS)
    at.secrets = SECRETS
    # AppTest builds the registry on a session's first run (about 90 ms scanning installed
    # packages), which a real session does not pay. It is a private attribute: if it goes,
    # the cost is simply included.
    if hasattr(at, "_bidi_component_manager"):
        at._bidi_component_manager = components()
    return at.switch_page(page)


def check(at: AppTest, title: str) -> AppTest:
    """Fail loudly when the page raised, showed an error or is not the page asked for."""
    if at.exception:
        raise RuntimeError(f"{title}: {at.exception[0].value}")
    if at.error:
        raise RuntimeError(f"{title}: the page shows an error: {at.error[0].value}")
    titles = [element.value for element in at.title]
    if title not in titles:
        raise RuntimeError(f"expected the {title!r} page, got titles {titles}")
    return at


def time_ms(action: Callable[[], object]) -> float:
    """Wall-clock milliseconds of one call."""
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


@dataclass
class Figures:
    """One action's page times and baseline times, with its target."""

    action: str
    page_ms: list[float] = field(default_factory=list)
    script_ms: list[float] = field(default_factory=list)
    library_ms: list[float] = field(default_factory=list)
    target_ms: float | None = None
    # Runs the same measurement again, for the profile.
    again: Callable[[], Figures] | None = None

    def add(self, page_ms: float, library_ms: float) -> None:
        """Record one measurement, the page script's share of it and the baseline."""
        self.page_ms.append(page_ms)
        self.script_ms.append(CLOCK.last_ms)
        self.library_ms.append(library_ms)

    @property
    def median(self) -> float:
        """Median page milliseconds."""
        return statistics.median(self.page_ms)

    @property
    def misses(self) -> bool:
        """Whether the median is over the target."""
        return self.target_ms is not None and self.median >= self.target_ms


# --------------------------------------------------------------------------- first renders


def first_render(bench: Bench, label: str, repeat: int) -> Figures:
    """A page's first render, `repeat` times, each a new session on cold caches."""
    figures = Figures(f"first render: {label}", target_ms=FIRST_RENDER_TARGET_MS)
    baseline = PAGE_BASELINES[label]
    for _ in range(repeat):
        clear_caches()
        at = new_session(PAGES[label])
        page_ms = time_ms(at.run)
        check(at, label)
        figures.add(page_ms, time_ms(lambda: baseline(bench)))
    figures.again = lambda: first_render(bench, label, 1)
    return figures


def overview_library(bench: Bench) -> None:
    """The salesml calls of the Overview page on cold caches."""
    with fresh_engine(bench.url) as engine:
        db.overview(engine)
        headline = analytics.headline(engine)
        until = Filters(end=headline.filters.end)
        charts.trend_chart(analytics.over_time(engine, until, grain="M", rolling=1))


def data_library(bench: Bench) -> None:
    """The salesml calls of the Data page on cold caches."""
    with fresh_engine(bench.url) as engine:
        db.list_batches(engine)


def explorer_library(bench: Bench) -> None:
    """The salesml calls of the Explorer page on cold caches, for its default view."""
    with fresh_engine(bench.url) as engine:
        db.overview(engine)
        explorer_work(engine, View(Filters(bench.first, bench.last)), frozenset(EXPLORER_QUERIES))


def train_library(bench: Bench) -> None:
    """The salesml calls of the Train & compare page on cold caches (before any training)."""
    with fresh_engine(bench.url) as engine:
        db.overview(engine)
        analytics.categories(engine)


def forecast_library(bench: Bench) -> None:
    """The salesml calls of the Forecast page on cold caches: load, forecast, chart."""
    record = bench.record
    with fresh_engine(bench.url) as engine:
        registry.list_models(engine)
        model, _ = registry.load_model(engine, record.id, model_dir=bench.root / "models")
        history = load_series(
            engine, level=record.level, freq=record.freq, target=record.target
        ).frame
    forecast_work(bench, model, history, record.horizon)


def predictions_library(bench: Bench) -> None:
    """The salesml calls of the Predictions page on cold caches."""
    with fresh_engine(bench.url) as engine:
        runs = predictions.stored_runs(engine)
        predictions.accuracy(engine)
        joined = predictions.forecasts_with_actuals(engine, run_id=runs["run_id"].iat[0])
    series = sorted(joined["series"].unique())[0]
    freq = str(joined["freq"].iat[0])
    charts.predicted_vs_actual_chart(joined, series=series, freq=freq)


PAGE_BASELINES: dict[str, Callable[[Bench], None]] = {
    "Overview": overview_library,
    "Data": data_library,
    "Explorer": explorer_library,
    "Train & compare": train_library,
    "Forecast": forecast_library,
    "Predictions": predictions_library,
}


# --------------------------------------------------------------------------- explorer changes


@dataclass(frozen=True)
class Change:
    """One widget change on the Explorer and the view it leads to."""

    apply: Callable[[AppTest], object]
    view: View


def explorer_work(engine: Engine, view: View, misses: frozenset[str]) -> float:
    """Milliseconds of the salesml work of one Explorer run: the queries that miss, the
    figures drawn from the summary, the charts."""
    f, measure = view.filters, view.measure
    queries: dict[str, Callable[[], object]] = {
        "catalogue": lambda: analytics.catalogue(engine),
        "summarise": lambda: analytics.summarise(engine, f),
        "top_products": lambda: analytics.top_products(engine, f, n=TOP_N, measure=measure),
    }
    results: dict[str, object] = {}
    elapsed = 0.0
    for name, query in queries.items():
        start = time.perf_counter()
        results[name] = query()
        if name in misses:
            elapsed += (time.perf_counter() - start) * 1000
    summary = results["summarise"]
    frames: dict[str, object] = {"top_products": results["top_products"]}

    def figures() -> None:
        results["catalogue"].products(f.categories)
        summary.kpis()
        summary.returns_share()
        frames["over_time"] = summary.over_time(
            grain=view.grain, measure=measure, rolling=view.rolling
        )
        frames["by_category"] = summary.by_category()
        frames["monthly_by_year"] = summary.monthly_by_year(measure=measure)
        frames["weekday_profile"] = summary.weekday_profile(measure=measure)

    return elapsed + time_ms(figures) + time_ms(lambda: explorer_charts(frames, view))


def explorer_charts(frames: dict[str, object], view: View) -> None:
    """Build the Explorer's six Altair charts from its query results."""
    measure, categories = view.measure, frames["by_category"]
    charts.over_time_chart(
        frames["over_time"], measure=measure, grain=view.grain, rolling=view.rolling
    )
    charts.category_chart(categories, measure=measure)
    charts.top_products_chart(
        frames["top_products"], measure=measure, categories=categories["category"]
    )
    charts.month_year_heatmap(frames["monthly_by_year"], measure=measure)
    charts.year_over_year_chart(frames["monthly_by_year"], measure=measure)
    charts.weekday_heatmap(frames["weekday_profile"], measure=measure)


def set_widget(kind: str, key: str, value: object) -> Callable[[AppTest], object]:
    """A change that sets one widget (an AppTest accessor such as "radio") to a value."""
    return lambda at: getattr(at, kind)(key=key).set_value(value)


def explorer_changes(bench: Bench) -> dict[str, list[Change]]:
    """Per kind of filter, a few changes, each to a view the page has not shown before."""
    first, last = bench.first, bench.last
    starts = [first + dt.timedelta(days=7 * k) for k in range(1, CHANGES_PER_FILTER + 1)]
    return {
        "dates": [
            Change(set_widget("date_input", "dates", (start, last)), View(Filters(start, last)))
            for start in starts
        ],
        "categories": [
            Change(
                set_widget("multiselect", "categories", list(chosen)),
                View(Filters(first, last, categories=chosen)),
            )
            for chosen in category_choices(bench.categories)
        ],
        "products": [
            Change(
                set_widget("multiselect", "products", [name]),
                View(Filters(first, last, products=(name,))),
            )
            for name in bench.top_products
        ],
        "grain": [
            Change(set_widget("radio", "grain", grain), View(Filters(first, last), grain=grain))
            for grain in ("M", "D")
        ],
    }


def category_choices(names: Sequence[str]) -> list[tuple[str, ...]]:
    """Distinct, non-empty category selections: one, two, the next one, the next two, ..."""
    choices: list[tuple[str, ...]] = []
    for i in range(len(names)):
        for width in (1, 2):
            chosen = tuple(names[i : i + width])
            if len(chosen) == width and chosen not in choices:
                choices.append(chosen)
    return choices[:CHANGES_PER_FILTER]


def filter_changes(bench: Bench, kind: str, changes: list[Change]) -> Figures:
    """The Explorer's reruns after each change of one kind, from a fresh session's view."""
    figures = Figures(f"Explorer rerun: {kind} change", target_ms=FILTER_TARGET_MS)
    clear_caches()
    at = new_session(PAGES["Explorer"])
    check(at.run(), "Explorer")
    for change in changes:
        change.apply(at)
        page_ms = time_ms(at.run)
        check(at, "Explorer")
        figures.add(page_ms, explorer_work(bench.engine, change.view, MISSES[kind]))
    figures.again = lambda: filter_changes(bench, kind, changes)
    return figures


# --------------------------------------------------------------------------- forecast slider


def forecast_work(bench: Bench, model: object, history: pd.DataFrame, horizon: int) -> float:
    """Milliseconds of the Forecast page's salesml work for a horizon: forecast, outlook, chart."""
    record = bench.record

    def work() -> None:
        table = predictions.forecast_frame(model, horizon, [bench.series])
        scenarios.outlook(table, history, freq=record.freq)
        charts.forecast_chart(history, table, freq=record.freq, y_title=record.target.capitalize())
        scenarios.side_by_side(table, None, freq=record.freq)

    return time_ms(work)


def horizon_groups(bench: Bench) -> dict[str, tuple[int, ...]]:
    """The slider moves, split at the periods the model precomputed when it was fitted."""
    cached = getattr(bench.model, "cache_horizon_", bench.record.horizon)
    return {
        f"<= {cached}": tuple(h for h in HORIZON_MOVES if h <= cached),
        f"> {cached}": tuple(h for h in HORIZON_MOVES if h > cached),
    }


def horizon_moves(bench: Bench, label: str, moves: tuple[int, ...]) -> Figures:
    """The Forecast page's reruns after each move of the horizon slider."""
    figures = Figures(f"Forecast rerun: horizon {label}", target_ms=SLIDER_TARGET_MS)
    clear_caches()
    at = new_session(PAGES["Forecast"])
    check(at.run(), "Forecast")
    for horizon in moves:
        at.slider(key="horizon").set_value(horizon)
        page_ms = time_ms(at.run)
        check(at, "Forecast")
        if len(at.dataframe[0].value) != horizon:
            raise RuntimeError(f"the forecast table does not have {horizon} rows")
        figures.add(page_ms, forecast_work(bench, bench.model, bench.history, horizon))
    figures.again = lambda: horizon_moves(bench, label, moves)
    return figures


# --------------------------------------------------------------------------- whole processes


PROCESS_RUNS = 7
HELP_TARGET_MS = 1000.0
COLD_RENDER_TARGET_MS = 1500.0
# What `python -m salesml --help` imported before each command imported its own modules: the
# same cost, measured now, as the yardstick the lazy start is compared with.
EAGER_CLI_IMPORTS = (
    "import argparse, sqlalchemy, utilsforecast.preprocessing, "
    "salesml.audit, salesml.config, salesml.ingest, salesml.series, salesml.zoo"
)


@dataclass
class ProcessFigures:
    """Wall-clock milliseconds of one command, each run a new process from start to exit."""

    label: str
    command: list[str]
    target_ms: float | None = None
    wall_ms: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        """Median milliseconds."""
        return statistics.median(self.wall_ms)


def process_ms(command: Sequence[str], env: dict[str, str] | None = None) -> float:
    """Milliseconds from starting a command to its exit; fails loudly if it fails."""
    start = time.perf_counter()
    done = subprocess.run(
        command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        last = (done.stderr.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{' '.join(command)} exited with {done.returncode}: {last}")
    return elapsed


def process_starts(runs: int) -> list[ProcessFigures]:
    """The command line's start, against an empty interpreter and the old eager imports."""
    python = sys.executable
    figures = [
        ProcessFigures("python -c pass (baseline)", [python, "-c", "pass"]),
        ProcessFigures("before: --help's eager imports", [python, "-c", EAGER_CLI_IMPORTS]),
        ProcessFigures(
            "python -m salesml --help", [python, "-m", "salesml", "--help"], HELP_TARGET_MS
        ),
        ProcessFigures(
            "python -m salesml train --help",
            [python, "-m", "salesml", "train", "--help"],
            HELP_TARGET_MS,
        ),
    ]
    for f in figures:  # untimed: the files into the page cache
        process_ms(f.command)
    for _ in range(runs):
        for f in figures:  # in turn, so a drift in the machine's speed touches each alike
            f.wall_ms.append(process_ms(f.command))
    return figures


def process_table(figures: list[ProcessFigures]) -> list[str]:
    """One line per command: median, min and max, the ratio to `python -c pass`, the target."""
    baseline = figures[0].median
    header = (
        f"  {'command (whole process)':<38} {'n':>2} {'median ms':>10} {'min ms':>8} "
        f"{'max ms':>8} {'x pass':>7}  {'target':<10} verdict"
    )
    lines = [header, "  " + "-" * (len(header) - 2)]
    for f in figures:
        target = f"< {f.target_ms:,.0f} ms" if f.target_ms is not None else ""
        verdict = "" if f.target_ms is None else ("meets" if f.median < f.target_ms else "misses")
        lines.append(
            f"  {f.label:<38} {len(f.wall_ms):>2} {f.median:>10,.0f} {min(f.wall_ms):>8,.0f} "
            f"{max(f.wall_ms):>8,.0f} {f.median / baseline:>6.1f}x  {target:<10} {verdict}"
        )
    return lines


# --------------------------------------------------------------------------- real browser

# A real server and Debian's Chromium, as tests/e2e drives them (its serve_app is reused).
SCRIPT_DONE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
STATUS_WIDGET = '[data-testid="stStatusWidget"]'
EXCEPTION = '[data-testid="stException"]'
CHART = '[data-testid="stVegaLiteChart"]'
# Two animation frames: the browser has painted what the last message changed.
PAINTED = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
BROWSER_TIMEOUT_MS = 120_000
# The demo model forecasts 12 months; it precomputed 24 when fitted, and the slider ends at 36.
SLIDER_KEYS = ("ArrowRight",) * 5 + ("End",) + ("ArrowLeft",) * 4


@dataclass
class BrowserFigures:
    """Milliseconds of one user-visible action, measured in the browser's own process."""

    action: str
    target_ms: float | None = None
    wall_ms: list[float] = field(default_factory=list)


def settle(page: object) -> None:
    """Wait until the script run has finished and its output is painted; fail on a traceback."""
    page.locator(SCRIPT_DONE).wait_for()
    page.locator(STATUS_WIDGET).wait_for(state="hidden")
    page.evaluate(PAINTED)
    if page.locator(EXCEPTION).count():
        raise RuntimeError(f"the page shows a traceback: {page.locator(EXCEPTION).inner_text()}")


def open_settled(page: object, url: str, title: str) -> tuple[float, float]:
    """Milliseconds from page.goto to the page's title and chart drawn and its run settled,
    and of page.goto alone (the load event: Streamlit's frontend fetched and started)."""
    start = time.perf_counter()
    page.goto(url)
    loaded = (time.perf_counter() - start) * 1000
    page.get_by_role("heading", name=title, exact=True).wait_for()
    page.locator(CHART).first.wait_for()
    settle(page)
    return (time.perf_counter() - start) * 1000, loaded


def move_slider(page: object, key: str, unit: str) -> tuple[int, float]:
    """Press a key on the horizon slider's thumb: the new horizon and ms to the settled chart."""
    thumb = page.locator(".st-key-horizon").get_by_role("slider")
    before = thumb.input_value()
    start = time.perf_counter()
    thumb.press(key)
    page.wait_for_function(
        "([el, before]) => el.value !== before", arg=[thumb.element_handle(), before]
    )
    horizon = int(thumb.input_value())
    # The page's last line names the horizon: once it shows the new one the run has drawn it.
    page.get_by_text(f"series, {horizon} {unit}s ahead.").first.wait_for()
    settle(page)
    return horizon, (time.perf_counter() - start) * 1000


# The baseline for a slider move: Streamlit alone, a page with the same slider and one line.
BARE_SLIDER_PAGE = """
import streamlit as st
horizon = st.slider("Months ahead", 1, 36, 12, key="horizon")
st.write(f"4 series, {horizon} months ahead.")
"""


@contextmanager
def bare_streamlit(root: Path) -> Iterator[str]:
    """`streamlit run` of BARE_SLIDER_PAGE on a free port: its URL until the block ends."""
    from tests.e2e.conftest import _free_port

    script = root / "bare_slider.py"
    script.write_text(BARE_SLIDER_PAGE)
    port = _free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless=true"]
    command += [f"--server.port={port}", "--browser.gatherUsageStats=false"]
    process = subprocess.Popen(
        command, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def demo_database() -> Iterator[tuple[str, Path, int]]:
    """`python -m salesml demo` in a temporary directory: its URL, directory and cached periods."""
    with tempfile.TemporaryDirectory(prefix="salesml-bench-cold-") as tmp:
        root = Path(tmp)
        env = {
            **os.environ,
            "SALESML_DATABASE_URL": sqlite_url(root),
            "SALESML_MODEL_DIR": str(root / "models"),
        }
        process_ms([sys.executable, "-m", "salesml", "demo"], env=env)
        engine = db.create_engine_for(sqlite_url(root))
        try:
            model, _ = registry.load_model(engine, None, model_dir=root / "models")
        finally:
            engine.dispose()
        yield sqlite_url(root), root, int(model.cache_horizon_)


def browser_figures(repeat: int) -> list[BrowserFigures]:
    """Cold starts of the served app, and the Forecast slider, in Chromium."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM_ARGS, serve_app

    executable = shutil.which("chromium")
    if executable is None:
        raise RuntimeError("the browser figures need Chromium: apt-get install chromium")
    start = BrowserFigures("server start (process to /_stcore/health)")
    cold = BrowserFigures("Overview: fresh server, goto to settled", COLD_RENDER_TARGET_MS)
    warm = BrowserFigures("Overview: new tab, same server")
    frontend = BrowserFigures("  baseline: their page.goto alone (frontend)")
    forecast = BrowserFigures("Forecast: first visit (model, stack)")
    within = BrowserFigures("slider release: <= cached periods", SLIDER_TARGET_MS)
    beyond = BrowserFigures("slider release: > cached periods", SLIDER_TARGET_MS)
    bare = BrowserFigures("  baseline: the same slider on a bare Streamlit page")
    note("  browser: python -m salesml demo")
    with demo_database() as (url, root, cached), sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True
        )
        try:
            for run in range(repeat):
                note(f"  browser: fresh server {run + 1} of {repeat}")
                began = time.perf_counter()
                with serve_app(url, root) as app:
                    start.wall_ms.append((time.perf_counter() - began) * 1000)
                    for figures, address, title in (
                        (cold, app.url, "Overview"),
                        (warm, app.url, "Overview"),
                        (forecast, f"{app.url}/forecast", "Forecast"),
                    ):
                        context = browser.new_context(viewport={"width": 1400, "height": 900})
                        page = context.new_page()
                        page.set_default_timeout(BROWSER_TIMEOUT_MS)
                        settled_ms, loaded_ms = open_settled(page, address, title)
                        figures.wall_ms.append(settled_ms)
                        if figures is not forecast:
                            frontend.wall_ms.append(loaded_ms)
                        if figures is not forecast:
                            context.close()
                    for key in SLIDER_KEYS:
                        horizon, ms = move_slider(page, key, "month")
                        (within if horizon <= cached else beyond).wall_ms.append(ms)
                    context.close()
            note("  browser: the baseline slider on a bare Streamlit page")
            with bare_streamlit(root) as bare_url:
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                page = context.new_page()
                page.set_default_timeout(BROWSER_TIMEOUT_MS)
                for _ in range(repeat):  # each round from the slider's start, as on Forecast
                    page.goto(bare_url)
                    page.get_by_text("series, 12 months ahead.").wait_for()
                    settle(page)
                    for key in SLIDER_KEYS:
                        bare.wall_ms.append(move_slider(page, key, "month")[1])
                context.close()
        finally:
            browser.close()
    within.action += f" ({cached})"
    beyond.action += f" ({cached})"
    return [start, cold, warm, frontend, forecast, within, beyond, bare]


def browser_table(results: list[BrowserFigures]) -> list[str]:
    """One line per browser action: median, min and max, the target and the verdict."""
    header = (
        f"  {'action (Chromium, real server)':<46} {'n':>2} {'median ms':>10} {'min ms':>8} "
        f"{'max ms':>8}  {'target':<10} verdict"
    )
    lines = [header, "  " + "-" * (len(header) - 2)]
    for f in results:
        median = statistics.median(f.wall_ms)
        target = f"< {f.target_ms:,.0f} ms" if f.target_ms is not None else ""
        verdict = "" if f.target_ms is None else ("meets" if median < f.target_ms else "misses")
        lines.append(
            f"  {f.action:<46} {len(f.wall_ms):>2} {median:>10,.0f} {min(f.wall_ms):>8,.0f} "
            f"{max(f.wall_ms):>8,.0f}  {target:<10} {verdict}"
        )
    return lines


# --------------------------------------------------------------------------- one data set


def warm_up() -> None:
    """Draw every page once, untimed, so the modules they import are loaded."""
    for label, page in PAGES.items():
        check(new_session(page).run(), label)


def measure(bench: Bench, repeat: int) -> list[Figures]:
    """Every measurement on one prepared data set."""
    results = []
    for label in PAGES:
        note(f"  first render: {label}")
        results.append(first_render(bench, label, repeat))
    for kind, changes in explorer_changes(bench).items():
        note(f"  Explorer: {kind} changes")
        results.append(filter_changes(bench, kind, changes))
    for label, moves in horizon_groups(bench).items():
        note(f"  Forecast: horizon moves {label}")
        results.append(horizon_moves(bench, label, moves))
    return results


@contextmanager
def prepared(data: DataSet) -> Iterator[Bench]:
    """A data set built in a temporary directory, with the app pointed at it."""
    with tempfile.TemporaryDirectory(prefix="salesml-bench-app-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        build(data, root)
        note(f"  built in {time.perf_counter() - start:.1f} s")
        point_app_at(root)
        bench = open_bench(root)
        try:
            yield bench
        finally:
            bench.engine.dispose()
            clear_caches()


# --------------------------------------------------------------------------- profiling


PUBLIC_CHARTS = tuple(
    name for name in dir(charts) if name.endswith("_chart") or name.endswith("_heatmap")
)
# Where a page run's time goes, as (label, file name ending, function names) in the profile.
TIME_SINKS = (
    (
        "SQLite: execute + fetch",
        "~",
        (
            "<method 'execute' of 'sqlite3.Cursor' objects>",
            "<method 'fetchall' of 'sqlite3.Cursor' objects>",
        ),
    ),
    ("salesml.charts: build the Altair charts", "salesml/charts.py", PUBLIC_CHARTS),
    (
        "st.altair_chart: Altair to_dict + validation, data to Arrow",
        "vega_charts.py",
        ("altair_chart",),
    ),
    ("Forecaster.predict", "salesml/forecasting/estimator.py", ("predict",)),
)


def seconds_in(stats: pstats.Stats, file: str, functions: tuple[str, ...]) -> float:
    """Cumulative seconds of the profiled functions of one file."""
    return sum(
        cumulative
        for (name, _, function), (_, _, _, cumulative, _) in stats.stats.items()
        if name.endswith(file) and function in functions
    )


def profile(figures: Figures, *, lines: int = 25) -> list[str]:
    """Run a measurement again under cProfile: where its page runs spend their time."""
    CLOCK.profiler = profiler = cProfile.Profile()
    runs = len(CLOCK.seconds)
    try:
        again = figures.again()
    finally:
        CLOCK.profiler = None
    total = sum(CLOCK.seconds[runs:])
    stats = pstats.Stats(profiler)
    out = [
        f"\nprofile of {figures.action!r} (measured again under cProfile: page median "
        f"{again.median:,.0f} ms; {len(CLOCK.seconds) - runs} script runs incl. the "
        f"session's opening run, {total * 1000:,.0f} ms in the script thread)"
    ]
    for label, file, functions in TIME_SINKS:
        spent = seconds_in(stats, file, functions)
        if spent:
            out.append(f"  {label:<62} {spent * 1000:>8,.0f} ms  {spent / total:>4.0%}")
    text = io.StringIO()
    stats.stream = text
    project = f"^{PROJECT_ROOT}/(salesml|pages)/"
    stats.sort_stats("cumulative").print_stats(project, lines)
    stats.strip_dirs().sort_stats("tottime").print_stats(12)
    return out + [line for line in text.getvalue().splitlines() if line.strip()]


# --------------------------------------------------------------------------- report


def note(message: str) -> None:
    """Progress on stderr, so stdout holds only the report."""
    print(message, file=sys.stderr, flush=True)


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def environment() -> list[str]:
    """A few lines on the machine and the software measured."""
    cpus = f"{os.cpu_count()} CPUs ({len(os.sched_getaffinity(0))} usable)"
    model = next(
        (line.split(":", 1)[1].strip() for line in _cpuinfo() if line.startswith("model name")),
        "unknown model",
    )
    names = ("streamlit", "pandas", "altair", "SQLAlchemy", "statsforecast", "pyarrow")
    packages = ", ".join(f"{name} {metadata.version(name)}" for name in names)
    return [
        f"machine:  {cpus}, {model}, {platform.system()} {platform.release()}",
        f"python:   {platform.python_version()}; {packages}; sqlite {sqlite3.sqlite_version}",
        f"load:     {load_average()} (1/5/15 min) at the start",
    ]


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def table(results: list[Figures]) -> list[str]:
    """One line per action: page median and max, its script share, the baseline, the target."""
    header = (
        f"  {'page / action':<38} {'n':>2} {'median ms':>10} {'max ms':>8} {'script ms':>10} "
        f"{'salesml ms':>10} {'page/salesml':>12}  {'target':<10} verdict"
    )
    lines = [header, "  " + "-" * (len(header) - 2)]
    for f in results:
        library = statistics.median(f.library_ms)
        ratio = f"{f.median / library:.1f}x" if library > 0 else "-"
        target = f"< {f.target_ms:,.0f} ms" if f.target_ms is not None else ""
        verdict = ("misses" if f.misses else "meets") if f.target_ms is not None else ""
        lines.append(
            f"  {f.action:<38} {len(f.page_ms):>2} {f.median:>10,.0f} {max(f.page_ms):>8,.0f} "
            f"{statistics.median(f.script_ms):>10,.0f} {library:>10,.0f} {ratio:>12}  "
            f"{target:<10} {verdict}"
        )
    return lines


def report(data: DataSet, bench: Bench, results: list[Figures], loads: tuple[str, str]) -> None:
    """Print one data set's table."""
    overview = db.overview(bench.engine)
    print(
        f"\n{data.name}: {overview.rows:,} sales lines, {overview.products:,} products, "
        f"{overview.categories} categories, {overview.first_date} to {overview.last_date}; "
        f"model #{bench.record.id} {bench.record.name} ({bench.record.level}, "
        f"{bench.record.series_count} series, monthly, horizon {bench.record.horizon})"
    )
    print(f"  load average before / after: {loads[0]}  |  {loads[1]}")
    print("\n".join(table(results)))


LEGEND = (
    "first render: a new session opened on the page; modules imported, caches cleared.",
    "rerun: one AppTest.run() after a widget change to a view the page has not shown before.",
    "median/max ms: AppTest.run(), wall clock. script ms: the page script in Streamlit's",
    "  script thread (median; the rest is AppTest turning messages back into elements).",
    "  It includes ~10-25 ms of AppTest recompiling app.py and the page on every run,",
    "  which a server, keeping its script cache, does not repeat.",
    "salesml ms: the same salesml calls (cache-missing queries, forecast, charts) timed",
    "  directly, without Streamlit (median) -- the baseline.",
    "horizon <= N: within the periods the saved model forecast when it was fitted",
    "  (Forecaster.cache_horizon_); > N: the model forecasts again on each move.",
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        default=",".join(DATASETS),
        help=f"comma-separated data sets (default: {','.join(DATASETS)})",
    )
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help=f"comma-separated parts to run (default: {','.join(PARTS)})",
    )
    parser.add_argument("--repeat", type=int, default=3, help="first renders per page (default 3)")
    parser.add_argument(
        "--cold-repeat", type=int, default=3, help="fresh servers for the browser (default 3)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile every action that misses its target"
    )
    args = parser.parse_args(argv)
    args.data = args.data.split(",")
    args.parts = args.parts.split(",")
    if set(args.parts) - set(PARTS):
        parser.error(f"unknown part(s) {sorted(set(args.parts) - set(PARTS))}; choose {PARTS}")
    unknown = set(args.data) - set(DATASETS)
    if unknown:
        parser.error(f"unknown data set(s) {sorted(unknown)}; choose from {sorted(DATASETS)}")
    if "online_retail" in args.data and not DATA_FILE.is_file():
        parser.error(f"{DATA_FILE} is missing; pass --data demo to measure the demo data only")
    if args.repeat < 1 or args.cold_repeat < 1:
        parser.error("--repeat and --cold-repeat must be 1 or more")
    return args


def main(argv: list[str] | None = None) -> None:
    """Measure every data set asked for and print a table for each."""
    args = parse_args(argv)
    # Clearing caches outside a script run logs bare-mode warnings; keep stderr for progress.
    st_logger.set_log_level("error")
    CLOCK.install()
    print("salesml app benchmark (wall-clock ms; median of n)")
    print("\n".join(environment()))
    if "start" in args.parts:
        note("start: whole processes")
        print("\nstart-up of the command line (each run a new process, start to exit)")
        print("\n".join(process_table(process_starts(PROCESS_RUNS))))
    if "browser" in args.parts:
        note("browser: cold starts and the Forecast slider")
        results = browser_figures(args.cold_repeat)
        print("\nthe served app in Chromium (python -m salesml serve on the demo data)")
        print("\n".join(browser_table(results)))
    if "apptest" not in args.parts:
        return
    print("\nStreamlit AppTest")
    print("\n".join(LEGEND))
    for name in args.data:
        data = DATASETS[name]
        note(f"{data.name}: building")
        with prepared(data) as bench:
            warm_up()
            before = load_average()
            results = measure(bench, args.repeat)
            report(data, bench, results, (before, load_average()))
            if args.profile:
                for figures in (f for f in results if f.misses):
                    note(f"  profiling {figures.action}")
                    print("\n".join(profile(figures)))


if __name__ == "__main__":
    main()
