"""The comparison report: leaderboard, chosen model and chart in one safe, self-contained page."""

from __future__ import annotations

import copy
import json
import re

import numpy as np
import pandas as pd
import pytest

from salesml import charts, report
from salesml.forecasting import STAT_PAIR, Forecaster
from salesml.forecasting.models import Combination
from salesml.series import SeriesSet
from salesml.training import TrainRequest, TrainResult

HOSTILE = "<script>alert(1)</script>"
REQUEST = TrainRequest(
    level="product",
    freq="M",
    target="revenue",
    horizon=3,
    models=("snaive", "ets", "theta"),
    windows=2,
)


def monthly(names: list[str], length: int = 48) -> pd.DataFrame:
    """Seasonal monthly series with a little noise, one per name."""
    rng = np.random.default_rng(0)
    t = np.arange(length)
    dates = pd.date_range("2021-01-01", periods=length, freq="MS")
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "unique_id": name,
                    "ds": dates,
                    "y": 100 * (1 + 0.3 * np.sin(2 * np.pi * t / 12 + i))
                    + rng.normal(0, 5, length),
                    "category": "Tools",
                }
            )
            for i, name in enumerate(names)
        ],
        ignore_index=True,
    )


def train(frame: pd.DataFrame, request: TrainRequest = REQUEST) -> TrainResult:
    forecaster = Forecaster(
        freq=request.freq,
        horizon=request.horizon,
        models=tuple(request.models),
        windows=request.windows,
    ).fit(frame)
    series = SeriesSet(frame, request.level, request.freq, request.target)
    series.notes.append("the last period (2025-01-01) is only covered up to 2025-01-12")
    return TrainResult(forecaster, series, seconds=1.5)


@pytest.fixture(scope="module")
def result() -> TrainResult:
    return train(monthly([HOSTILE, "Widget & Co"]))


@pytest.fixture(scope="module")
def page(result: TrainResult) -> str:
    return report.comparison_html(result, REQUEST, series=HOSTILE)


def without_scripts(page: str) -> str:
    return re.sub(r"<script\b.*?</script>", "", page, flags=re.DOTALL)


def embedded_spec(page: str) -> dict:
    match = re.search(r'vegaEmbed\("#chart", (.*), \{"actions": false\}\);</script>', page)
    assert match, "the chart is not embedded"
    return json.loads(match.group(1))


@pytest.mark.slow
def test_report_has_a_leaderboard_row_per_model_without_needing_scripts(result, page):
    table = without_scripts(page)
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table)
    assert len(rows) == 1 + len(result.forecaster.leaderboard_)  # the header, then the models
    for model in result.forecaster.leaderboard_["model"]:
        assert f"<td>{report.model_label(model)}</td>" in table
    assert "MASE" in table and "sMAPE" in table and "95% coverage" in table
    assert "<td>Theta</td>" in table and "<td>Mean of ETS + Theta</td>" in table


def test_report_highlights_and_names_the_chosen_model_in_its_first_row(result, page):
    chosen = report.model_label(result.forecaster.combination_.name)
    first_row = re.search(r"<tbody><tr([^>]*)><td>\d+</td><td>([^<]*)</td>", page)
    assert first_row.groups() == (' class="chosen"', chosen)
    assert f"<dt>Chosen model</dt><dd>{chosen}</dd>" in page


def test_report_links_back_to_its_run_in_the_app(result):
    page = report.comparison_html(result, REQUEST, link="http://localhost:8501/train?run=7")
    assert '<a href="http://localhost:8501/train?run=7">' in without_scripts(page)


@pytest.mark.parametrize("link", ["javascript:alert(1)", 'http://x/"><script>', None])
def test_report_links_only_to_an_escaped_web_address(result, link):
    page = without_scripts(report.comparison_html(result, REQUEST, link=link))
    assert "javascript:" not in page and '"><script>' not in page


def test_report_describes_the_data_it_compared(page):
    for label, value in [
        ("Level", "Per product"),
        ("Frequency", "Monthly"),
        ("Target", "Revenue"),
        ("Horizon", "3 months"),
        ("Series", "2"),
        ("Backtest", "2 windows of 3 months"),
    ]:
        assert f"<dt>{label}</dt><dd>{value}</dd>" in page
    assert "2021-01-01 to 2024-12-01 (48 months" in page


def test_report_lists_the_notes(page):
    assert "<li>the last period (2025-01-01) is only covered up to 2025-01-12</li>" in page


def test_report_escapes_series_names_in_text_and_in_the_chart(page):
    assert HOSTILE not in page
    assert "<h2>Backtest: &lt;script&gt;alert(1)&lt;/script&gt;</h2>" in page
    # Only our own two script elements: the chart library (inline) and the embed call.
    assert page.count("<script") == 2


def test_report_chart_holds_the_chosen_series_actuals_and_forecasts(result, page):
    spec = embedded_spec(page)
    rows = [row for data in spec["datasets"].values() for row in data if "line" in row]
    lines = {row["line"] for row in rows}
    assert lines == {"Actual", "Seasonal naive", report.chosen_model(result)}
    assert (
        len(
            {row["cutoff"] for data in spec["datasets"].values() for row in data if "cutoff" in row}
        )
        == 2
    )


def test_report_of_series_too_short_to_backtest_says_so_and_has_no_chart():
    short = train(monthly(["Widget"], length=10))
    page = report.comparison_html(short, REQUEST)
    assert "too little history to backtest" in page
    assert "vegaEmbed(" not in page


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("gb", "Gradient boosting"),
        ("mean(ets+gb)", "Mean of ETS + Gradient boosting"),
        ("mean(ets+theta)", "Mean of ETS + Theta"),
        ("median(lr+rf+snaive)", "Median of Linear regression + Random forest + Seasonal naive"),
        # A saved model whose series chose different models names each choice.
        ("lr+snaive+ets", "Per series: Linear regression, Seasonal naive, ETS"),
        ("mean(ets+theta)+lr", "Per series: Mean of ETS + Theta, Linear regression"),
    ],
)
def test_model_labels_read_as_words(name, label):
    assert report.model_label(name) == label


def kept_by_the_guard(result: TrainResult) -> TrainResult:
    """The same training, as if auto had kept the ETS+Theta mean over a slightly better rival."""
    forecaster = copy.deepcopy(result.forecaster)
    board = forecaster.leaderboard_.copy()
    pair = board.index[board["model"] == "mean(ets+theta)"][0]
    board["chosen"] = board.index == pair
    board.loc[pair, "mase"] = board["mase"].min() + 0.01
    forecaster.leaderboard_ = board.sort_values("mase", kind="stable", ignore_index=True)
    forecaster.combination_ = STAT_PAIR
    forecaster.choice_rival_ = str(board.loc[board["mase"].idxmin(), "model"])
    return TrainResult(forecaster, result.series, seconds=result.seconds)


def test_the_headline_says_why_a_model_was_kept_over_a_slightly_better_backtest(result):
    guarded = kept_by_the_guard(result)
    board = guarded.forecaster.leaderboard_
    best = report.model_label(board["model"].iat[0])
    line = report.headline(guarded)
    assert "most accurate" not in line
    assert line.startswith("Mean of ETS + Theta was chosen")
    assert best in line and "noise" in line


# --------------------------------------------------------------------------- offline report


def test_report_loads_no_script_from_the_network(page):
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert "window.vegaEmbed=" in page  # the chart library is in the page itself
    assert embedded_spec(page)["datasets"]


# --------------------------------------------------------------------------- headline and figures


def better_mase_worse_smape(result: TrainResult) -> TrainResult:
    """The same training, as if the chosen model beat seasonal naive on MASE but not on sMAPE."""
    forecaster = copy.deepcopy(result.forecaster)
    board = forecaster.leaderboard_.copy()
    chosen = board.index[board["model"] == "ets"][0]
    baseline = board.index[board["model"] == "snaive"][0]
    board["chosen"] = board.index == chosen
    board.loc[chosen, ["mase", "smape"]] = [0.8, 14.1]
    board.loc[baseline, ["mase", "smape"]] = [1.07, 12.3]
    forecaster.leaderboard_ = board.sort_values("mase", kind="stable", ignore_index=True)
    forecaster.combination_ = Combination(("ets",))
    forecaster.choice_rival_ = None
    return TrainResult(forecaster, result.series, seconds=result.seconds)


def test_the_headline_claims_no_lower_error_than_the_figures_shown_contradict(result):
    mixed = better_mase_worse_smape(result)
    line = report.headline(mixed)
    # The claim names its metric, with the figures the leaderboard shows for it ...
    assert "MASE 0.80 vs 1.07" in line
    assert "most accurate" not in line
    # ... and says where another figure shown points the other way.
    assert "sMAPE" in line and "12.3%" in line and "14.1%" in line


def test_the_headline_claims_the_lowest_mase_only_when_no_row_shown_scores_lower(result):
    forecaster = copy.deepcopy(result.forecaster)
    board = forecaster.leaderboard_
    ets, theta = (board.index[board["model"] == name][0] for name in ("ets", "theta"))
    board.loc[ets, "mase"], board.loc[theta, "mase"] = 0.5, 0.4
    board["chosen"] = board.index == ets
    forecaster.combination_, forecaster.choice_rival_ = Combination(("ets",)), None
    line = report.headline(TrainResult(forecaster, result.series, seconds=1.0))
    assert line.startswith("ETS was chosen") and "lowest" not in line and "most" not in line


def test_the_headline_names_only_its_metric_when_every_figure_shown_agrees(result):
    agreeing = better_mase_worse_smape(result)
    board = agreeing.forecaster.leaderboard_
    board.loc[board["model"] == "ets", "smape"] = 9.5
    line = report.headline(agreeing)
    assert "MASE 0.80 vs 1.07" in line and "25% lower" in line
    assert "sMAPE" not in line


def test_the_presenter_figures_show_the_headline_metric_for_the_chosen_model_and_baseline(result):
    mixed = better_mase_worse_smape(result)
    figures = report.key_figures(mixed, short=True)
    assert figures["MASE (backtest)"] == "0.80"
    assert figures["MASE vs seasonal naive"] == "-25%"
    shown = report.top_models(mixed).set_index("Role")
    assert list(report.top_models(mixed).columns)[:4] == ["#", "Model", "Role", "MASE"]
    assert (shown.at["chosen", "MASE"], shown.at["baseline", "MASE"]) == (0.8, 1.07)


# --------------------------------------------------------------------------- names and numbers


@pytest.mark.parametrize(
    ("column", "value", "text"),
    [
        ("MAE", 12571.953, "12,572"),
        ("RMSE", 8.456, "8.46"),
        ("MASE", 0.8123, "0.81"),
        ("sMAPE", 12.345, "12.3%"),
        ("80% coverage", 0.8125, "81%"),
        ("Bias", -1234.5, "-1,234"),
        ("R²", 0.8765, "0.88"),
        ("Fit time", 1.234, "1.2 s"),
        ("MASE", float("nan"), "—"),
    ],
)
def test_figures_are_written_one_way_everywhere(column, value, text):
    assert report.cell_text(column, value) == text


def test_the_presenter_leaderboard_shows_the_chosen_model_then_the_best_others(result):
    top = report.top_models(result)
    board = result.forecaster.leaderboard_
    others = board[~board["chosen"]]
    assert len(board) > 5 and len(top) in (5, 6)  # the baseline is added when it ranks lower
    assert top["Role"].iat[0] == "chosen"
    assert list(top["Model"][1:5]) == [report.short_model_label(m) for m in others["model"][:4]]
    assert list(top.columns) == ["#", "Model", "Role", "MASE", "sMAPE", "80% coverage"]


def test_a_chosen_model_ranked_last_by_mase_is_still_the_first_row(result):
    forecaster = copy.deepcopy(result.forecaster)
    board = forecaster.leaderboard_
    board["chosen"] = board.index == board.index[-1]
    compared = TrainResult(forecaster, result.series, seconds=1.0)
    for table in (report.top_models(compared), report.leaderboard(compared)):
        assert (table["#"].iat[0], table["Role"].iat[0]) == (len(board), "chosen")
    assert report.chart_models(compared)[0] == board["model"].iat[-1]


def test_the_guarded_choice_is_the_first_row_and_its_rival_the_second(result):
    guarded = kept_by_the_guard(result)
    table = report.leaderboard(guarded)
    assert list(table["Role"][:1]) == ["chosen"]
    assert table["Model"].iat[1] == report.model_label(guarded.forecaster.choice_rival_)
    assert table["#"].iat[1] == 1


# Every model and combination an auto training of the ML and statistical models compares.
AUTO_LEADERBOARD = [
    "mean(lr+theta)",
    "median(lr+rf+gb+snaive+ets+theta)",
    "mean(lr+ets+theta)",
    "lr",
    "mean(lr+ets)",
    "theta",
    "mean(ets+theta)",
    "ets",
    "mean(lr+snaive)",
    "snaive",
    "mean(lr+rf+gb+snaive+ets+theta)",
    "mean(lr+rf+gb)",
    "rf",
    "gb",
]


def test_every_model_of_an_auto_leaderboard_has_a_short_name_of_its_own():
    names = [report.short_model_label(name) for name in AUTO_LEADERBOARD]
    assert len(set(names)) == len(names), names
    assert "Mean of Linear regression + Theta" in names


def test_coverage_is_shown_when_two_windows_measured_it(result):
    table = report.leaderboard(result)
    assert table["80% coverage"].notna().all() and table["95% coverage"].notna().all()
    assert report.NO_COVERAGE not in report.leaderboard_caption(result)


def test_coverage_columns_go_when_one_window_could_not_measure_it():
    one = train(monthly(["Widget"]), TrainRequest(horizon=3, models=("snaive", "ets"), windows=1))
    table, top = report.leaderboard(one), report.top_models(one)
    assert not [c for c in [*table.columns, *top.columns] if "coverage" in c]
    assert report.NO_COVERAGE in report.leaderboard_caption(one)
    head = re.search(r"<thead>.*?</thead>", report.comparison_html(one, REQUEST)).group(0)
    assert "coverage" not in head


def test_combinations_named_by_their_size_are_listed_with_their_members():
    names = ["mean(ets+theta)", "ets", "median(lr+rf+gb+theta)"]
    top = pd.DataFrame({"#": [1, 2, 3], "model": names})
    assert report.members_legend(top["#"], top["model"]) == [
        "#3 Median of 4 models: Linear regression + Random forest + Gradient boosting + Theta",
    ]


def test_report_chart_takes_the_pages_width_in_the_light_themes_colours(page):
    spec = embedded_spec(page)
    assert spec["width"] == "container"
    (colour,) = [
        layer["encoding"]["color"]
        for layer in spec["layer"]
        if "color" in layer.get("encoding", {})
    ]
    assert colour["scale"]["range"][0] == charts.LIGHT_LINE_COLORS[0]  # "Actual"
