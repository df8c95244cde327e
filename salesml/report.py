"""The comparison of a training run: leaderboard, backtest lines, and a self-contained HTML page."""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Callable, Sequence

import altair as alt
import pandas as pd
from pandas.io.formats.style import Styler

from salesml import charts, currency
from salesml.comparisons import Comparison
from salesml.frequencies import FREQUENCIES
from salesml.training import TrainRequest, TrainResult
from salesml.zoo import members, model_label, short_model_label

# A comparison, or the training it comes from.
Compared = Comparison | TrainResult

LEVEL_LABELS = {"total": "Total", "category": "Per category", "product": "Per product"}
LEVEL_PHRASES = {"total": "in total", "category": "by category", "product": "by product"}
# Leaderboard column -> display name, in the order the table shows them.
METRIC_LABELS = {
    "mase": "MASE",
    "smape": "sMAPE",
    "mae": "MAE",
    "rmse": "RMSE",
    "r2": "R²",
    "bias": "Bias",
    "fit_seconds": "Fit time",
    "coverage_80": "80% coverage",
    "coverage_95": "95% coverage",
}
# The metrics in the target's own unit: money when the target is revenue.
MONEY_METRICS = ("mae", "rmse", "bias")
PRESENTER_METRICS = ("mase", "smape", "coverage_80")
PRESENTER_ROWS = 5
CHOSEN, BASELINE = "chosen", "baseline"
# Dark text on the light green in either theme: the dark theme's own text is near white.
CHOSEN_STYLE = "background-color: #dcfce7; color: #14532d; font-weight: 600"
TOP_FEATURES = 15
LEADERBOARD_CAPTION = (
    "Errors on the backtest: each window's models saw only the periods up to its cutoff. "
    "MASE is the error relative to a seasonal-naive forecast's in-sample error (below 1 "
    "beats it) and ranks the models; sMAPE is in percent; bias is the mean of forecast "
    "minus actual; coverage is how often actuals fell inside the 80% / 95% intervals "
    "(needs at least two windows)."
)
NO_COVERAGE = (
    "No coverage column: with one backtest window there is no other window to learn the "
    "ranges from; train with two windows or more to measure it."
)
COVERAGE = ("coverage_80", "coverage_95")


# --------------------------------------------------------------------------- names and figures


def compared(result: Compared) -> Comparison:
    """The comparison of a training result (or the comparison itself)."""
    return result if isinstance(result, Comparison) else result.comparison


def chosen_model(result: Compared) -> str:
    """The chosen model or combination, by its readable name."""
    return model_label(compared(result).chosen)


def title(request: TrainRequest) -> str:
    """The comparison's title: 'Monthly revenue by category: model comparison'."""
    scope = f" ({', '.join(request.categories)})" if request.categories else ""
    label = FREQUENCIES[request.freq].label
    return f"{label} {request.target} {LEVEL_PHRASES[request.level]}{scope}: model comparison"


def improvement(result: Compared) -> float | None:
    """How much lower the chosen model's MASE is than seasonal naive's (0.25 = 25 % lower)."""
    board = compared(result).leaderboard
    baseline = board.loc[board["model"] == "snaive", "mase"]
    if board.empty or baseline.empty or not baseline.iat[0] > 0:
        return None
    chosen = board.loc[board["chosen"].astype(bool), "mase"].iat[0]
    return 1.0 - float(chosen) / float(baseline.iat[0])


def headline(result: Compared) -> str:
    """One sentence on the outcome, for the top of the comparison.

    Its claim is made on MASE, which ranks the models, with the MASE figures the leaderboard
    shows; where sMAPE, shown beside it, favours seasonal naive instead, it says so.
    """
    comparison = compared(result)
    board = comparison.leaderboard
    name = chosen_model(comparison)
    if board.empty:
        return f"Too little history to backtest: {name} forecasts without a comparison."
    chosen = _chosen_row(board)
    mase = cell_text("MASE", chosen["mase"])
    rival = comparison.rival
    if rival is not None and rival in set(board["model"]):
        best = cell_text("MASE", board.loc[board["model"] == rival, "mase"].iat[0])
        return (
            f"{name} was chosen: {model_label(rival)} scored a little lower on the backtest "
            f"(MASE {best} vs {mase}), but not by more than the backtest's noise."
        )
    gain = improvement(comparison)
    # "Lowest" only when no row of the table scores lower: the claim never contradicts it.
    lowest = float(chosen["mase"]) <= float(board["mase"].min())
    claim = "has the lowest MASE" if lowest else "was chosen"
    if comparison.chosen == "snaive" or gain is None:
        return f"{name} {claim} ({mase})."
    base = board.loc[board["model"] == "snaive"].iloc[0]
    versus = f"MASE {mase} vs {cell_text('MASE', base['mase'])}"
    if gain <= 0:
        return f"{name} was chosen but does not beat seasonal naive ({versus})."
    sentence = f"{name} {claim}, {gain:.0%} lower than seasonal naive ({versus})"
    if not float(base["smape"]) < float(chosen["smape"]):
        return f"{sentence}."
    return (
        f"{sentence}; on sMAPE, which weighs misses on small values heavily, seasonal naive "
        f"is lower ({cell_text('sMAPE', base['smape'])} vs {cell_text('sMAPE', chosen['smape'])})."
    )


def _chosen_row(board: pd.DataFrame) -> pd.Series:
    return board.loc[board["chosen"].astype(bool)].iloc[0]


def key_figures(result: Compared, *, short: bool = False) -> dict[str, str]:
    """The few figures a presenter shows: chosen model (first), its MASE, the gain, the series.

    `short` names a chosen combination by its kind and size ('Mean of 3 models'), for a tile.
    """
    comparison = compared(result)
    board, name = comparison.leaderboard, comparison.chosen
    figures = {"Chosen model": short_model_label(name) if short else model_label(name)}
    if not board.empty:
        figures["MASE (backtest)"] = cell_text("MASE", _chosen_row(board)["mase"])
    gain = improvement(comparison)
    if gain is not None:
        figures["MASE vs seasonal naive"] = f"{-gain:+.0%}"
    figures["Series"] = f"{comparison.series_count:,}"
    return figures


def description(result: Compared, request: TrainRequest) -> dict[str, str]:
    """What was compared: level, frequency, target, horizon, series, data range, backtest."""
    comparison = compared(result)
    frequency = FREQUENCIES[request.freq]
    unit = frequency.unit
    described = {
        "Level": LEVEL_LABELS[request.level],
        "Frequency": frequency.label,
        "Target": request.target.capitalize(),
        "Horizon": _count(request.horizon, unit),
        "Series": f"{comparison.series_count:,}",
        "Data": (
            f"{comparison.data_start:%Y-%m-%d} to {comparison.data_end:%Y-%m-%d} "
            f"({_count(comparison.periods, unit)}, by period start)"
        ),
        "Backtest": f"{_count(_windows(comparison, request), 'window')} of "
        f"{_count(request.horizon, unit)}",
        "Models tried": ", ".join(model_label(m) for m in comparison.candidates),
    }
    if request.categories:
        described["Categories"] = ", ".join(request.categories)
    return described


def _windows(comparison: Comparison, request: TrainRequest) -> int:
    """The backtest windows the models were scored on (fewer than asked when history is short)."""
    cutoffs = comparison.backtest["cutoff"].nunique() if not comparison.backtest.empty else 0
    return int(cutoffs) or request.windows


def _count(n: int, unit: str) -> str:
    return f"{n:,} {unit}{'' if n == 1 else 's'}"


# --------------------------------------------------------------------------- leaderboard


def leaderboard(result: Compared, *, metrics: Sequence[str] = tuple(METRIC_LABELS)) -> pd.DataFrame:
    """The leaderboard, chosen model first, then best MASE first: rank by MASE ('#'), model,
    role (chosen / baseline) and the metrics' columns; coverage only where it was measured."""
    board = ranked(compared(result).leaderboard)
    chosen = board["chosen"].astype(bool).to_numpy()
    roles = [
        CHOSEN if is_chosen else BASELINE if model == "snaive" else ""
        for model, is_chosen in zip(board["model"], chosen, strict=True)
    ]
    frame = pd.DataFrame(
        {"#": board["#"], "Model": [model_label(m) for m in board["model"]], "Role": roles}
    )
    for metric in metrics:
        if metric in COVERAGE and board[metric].isna().all():
            continue
        frame[METRIC_LABELS[metric]] = board[metric].astype(float).to_numpy()
    return frame


def money_headers(result: Compared) -> dict[str, str]:
    """The leaderboard's money columns by their headers with the currency ('MAE' shown as
    'MAE (EUR)'); none for quantities, or sales that stated no currency."""
    comparison = compared(result)
    if comparison.target != "revenue" or not comparison.currency:
        return {}
    labels = [METRIC_LABELS[metric] for metric in MONEY_METRICS]
    return {label: currency.in_label(label, comparison.currency) for label in labels}


def ranked(board: pd.DataFrame) -> pd.DataFrame:
    """The forecaster's leaderboard (best MASE first) with its rank ('#'), the chosen row moved
    to the top: it is the one the comparison is about."""
    board = board.reset_index(drop=True)
    board.insert(0, "#", range(1, len(board) + 1))
    chosen = board["chosen"].astype(bool)
    return pd.concat([board[chosen], board[~chosen]], ignore_index=True)


def measures_coverage(result: Compared) -> bool:
    """True when the backtest had the windows to measure its ranges' coverage."""
    board = compared(result).leaderboard
    return not board.empty and not board[list(COVERAGE)].isna().all().all()


def top_models(
    result: Compared,
    *,
    rows: int = PRESENTER_ROWS,
    metrics: Sequence[str] = PRESENTER_METRICS,
) -> pd.DataFrame:
    """The chosen model, then the best others up to `rows` by names that tell them apart; the
    baseline is added below when it ranks lower, so the headline's figures are shown."""
    comparison = compared(result)
    board = leaderboard(comparison, metrics=metrics)
    names = ranked(comparison.leaderboard)["model"]
    board["Model"] = [short_model_label(m) for m in names]
    keep = (board.index < rows) | board["Role"].isin([CHOSEN, BASELINE])
    return board[keep].reset_index(drop=True)


def members_legend(ranks: Sequence[int], names: Sequence[str]) -> list[str]:
    """'#3 Median of 4 models: Linear regression + …' for each combination named by its size."""
    return [
        f"#{rank} {short_model_label(name)}: {members(name)}"
        for rank, name in zip(ranks, names, strict=True)
        if members(name) and short_model_label(name) != model_label(name)
    ]


def _amount(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


# One way to write each figure, wherever it is shown (page, presenter view, headline, report).
FORMATS: dict[str, Callable[[float], str]] = {
    "MASE": "{:.2f}".format,
    "sMAPE": "{:.1f}%".format,
    "MAE": _amount,
    "RMSE": _amount,
    "R²": "{:.2f}".format,
    "Bias": _amount,
    "Fit time": "{:.1f} s".format,
    "80% coverage": "{:.0%}".format,
    "95% coverage": "{:.0%}".format,
}


def cell_text(column: str, value: object) -> str:
    """A leaderboard cell as shown: metrics formatted, missing values as a dash."""
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return "—"
    if column in FORMATS:
        return FORMATS[column](float(value))  # numpy floats as well
    return str(value)


def style_leaderboard(frame: pd.DataFrame) -> Styler:
    """The leaderboard formatted for display, the chosen row highlighted."""
    formats = {column: f for column, f in FORMATS.items() if column in frame.columns}

    def highlight(row: pd.Series) -> list[str]:
        return [CHOSEN_STYLE if row["Role"] == CHOSEN else ""] * len(row)

    return frame.style.format(formats, na_rep="—").apply(highlight, axis=1)


# --------------------------------------------------------------------------- backtest chart


def chart_series(result: Compared) -> list[str]:
    """The series that were backtested (the chart can show any of them)."""
    return sorted(compared(result).backtest["unique_id"].astype(str).unique())


def chart_models(result: Compared) -> list[str]:
    """The models and combinations of the leaderboard, chosen first, then best first."""
    return [str(m) for m in ranked(compared(result).leaderboard)["model"]]


def default_chart_models(result: Compared) -> list[str]:
    """The chosen model and the seasonal-naive baseline."""
    names = [compared(result).chosen, "snaive"]
    return [name for name in dict.fromkeys(names) if name in chart_models(result)]


def backtest_lines(result: Compared, series: str, models: Sequence[str]) -> pd.DataFrame:
    """One series' actuals (with some history) and each model's backtest forecasts, long form."""
    comparison = compared(result)
    backtest = comparison.backtest
    part = backtest[backtest["unique_id"].astype(str) == series]
    history = comparison.history
    history = history[history["unique_id"].astype(str) == series]
    frequency = FREQUENCIES[comparison.freq]
    if not part.empty:
        # Some history before the first cutoff, for context.
        start = part["cutoff"].min() - frequency.offset * (frequency.history_periods - 1)
        history = history[history["ds"] >= start]
    lines = [
        pd.DataFrame(
            {
                "ds": history["ds"],
                "value": history["y"],
                "line": charts.BACKTEST_ACTUAL,
                "window": "",
            }
        )
    ]
    for model in models:
        lines.append(
            pd.DataFrame(
                {
                    "ds": part["ds"],
                    "value": part[model].astype(float),
                    "line": model_label(model),
                    "window": part["cutoff"].dt.strftime("%Y-%m-%d"),
                }
            )
        )
    return pd.concat(lines, ignore_index=True)


def cutoffs(result: Compared, series: str) -> list[pd.Timestamp]:
    """The backtest's cutoffs (the last period each window's models saw) for one series."""
    backtest = compared(result).backtest
    return sorted(backtest.loc[backtest["unique_id"].astype(str) == series, "cutoff"].unique())


def comparison_chart(
    result: Compared,
    series: str,
    models: Sequence[str],
    *,
    large: bool = False,
    colors: Sequence[str] | None = None,
) -> alt.LayerChart:
    """Backtest forecasts of the chosen models against the actuals of one series (in the
    theme's line colours unless given `colors`)."""
    comparison = compared(result)
    return charts.backtest_chart(
        backtest_lines(comparison, series, models),
        cutoffs(comparison, series),
        freq=comparison.freq,
        y_title=charts.measure_title(comparison.target, comparison.currency)
        if comparison.target in charts.MEASURE_TITLES
        else comparison.target.capitalize(),
        # The presenter view fits the chart above the fold of a 1280 x 720 screen.
        height=400 if large else 380,
        large=large,
        colors=colors,
    )


def importances(result: Compared) -> pd.DataFrame:
    """Feature importances of the chosen tree models (model, feature, importance), top first."""
    rows = [
        {"model": model, "feature": feature, "importance": float(value)}
        for model, values in compared(result).importances.items()
        for feature, value in list(values.items())[:TOP_FEATURES]
    ]
    return pd.DataFrame(rows, columns=["model", "feature", "importance"])


# --------------------------------------------------------------------------- HTML report

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1f24;
       max-width: 1100px; margin: 2rem auto; padding: 0 1.5rem; line-height: 1.45; }
h1 { font-size: 1.9rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #d8dee4;
     padding-bottom: .3rem; }
.meta { color: #57606a; font-size: .9rem; }
.headline { font-size: 1.2rem; background: #f3f5f8; border-left: 4px solid #1f6feb;
            padding: .75rem 1rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1.5rem; }
dt { font-weight: 600; } dd { margin: 0; }
table { border-collapse: collapse; width: 100%; font-size: .95rem; }
th, td { padding: .4rem .7rem; border-bottom: 1px solid #d8dee4; text-align: right; }
th:nth-child(2), td:nth-child(2), th:nth-child(3), td:nth-child(3) { text-align: left; }
thead th { background: #f3f5f8; }
tr.chosen td { background: #dcfce7; font-weight: 600; }
.notes li { margin-bottom: .25rem; }
.caption { color: #57606a; font-size: .85rem; }
#chart { display: block; width: 100%; }
"""


def comparison_html(
    result: Compared,
    request: TrainRequest,
    *,
    series: str | None = None,
    models: Sequence[str] | None = None,
    link: str | None = None,
) -> str:
    """A self-contained HTML page of the comparison, readable offline (the chart's script is
    inside it; the tables need none); `link` is the run's address in the app."""
    comparison = compared(result)
    heading = title(request)
    sections = [
        f"<h1>{_e(heading)}</h1>",
        f'<p class="meta">salesml report, {dt.datetime.now():%Y-%m-%d %H:%M}; '
        f"trained in {comparison.seconds:.1f} s</p>",
        _link(link),
        f'<p class="headline">{_e(headline(comparison))}</p>',
        "<h2>Data</h2>",
        _definitions(description(comparison, request)),
        "<h2>Chosen model</h2>",
        _definitions(key_figures(comparison)),
        _notes(comparison.notes),
        "<h2>Leaderboard</h2>",
        _table(leaderboard(comparison), money_headers(comparison)),
        f'<p class="caption">{_e(leaderboard_caption(comparison))}</p>',
        _chart_section(comparison, series, models),
    ]
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(heading)}</title>\n<style>{_CSS}</style>\n</head>\n"
        "<body>\n" + "\n".join(part for part in sections if part) + "\n</body>\n</html>\n"
    )


def leaderboard_caption(result: Compared) -> str:
    """What the leaderboard's figures mean, and why coverage is missing when it is."""
    caption = LEADERBOARD_CAPTION
    if not measures_coverage(result):
        caption = f"{caption} {NO_COVERAGE}"
    return caption


def _link(link: str | None) -> str:
    # Only an address the app built for this run: http(s), escaped as an attribute.
    if not link or not link.startswith(("http://", "https://")):
        return ""
    return f'<p class="meta"><a href="{_e(link)}">Open this comparison in salesml</a></p>'


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _definitions(items: dict[str, str]) -> str:
    rows = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items.items())
    return f"<dl>{rows}</dl>"


def _notes(notes: list[str]) -> str:
    if not notes:
        return ""
    items = "".join(f"<li>{_e(note)}</li>" for note in notes)
    return f'<h2>Notes</h2>\n<ul class="notes">{items}</ul>'


def _table(frame: pd.DataFrame, headers: dict[str, str]) -> str:
    if frame.empty:
        return "<p>There was too little history to backtest any model.</p>"
    head = "".join(f"<th>{_e(headers.get(column, column))}</th>" for column in frame.columns)
    rows = []
    for record in frame.to_dict("records"):
        cells = "".join(f"<td>{_e(cell_text(c, v))}</td>" for c, v in record.items())
        chosen = ' class="chosen"' if record["Role"] == CHOSEN else ""
        rows.append(f"<tr{chosen}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _chart_section(result: Compared, series: str | None, models: Sequence[str] | None) -> str:
    choices = chart_series(result)
    if not choices:
        return ""
    series = series if series in choices else choices[0]
    models = [m for m in (models or default_chart_models(result)) if m in chart_models(result)]
    # As wide as the page's text; vega-embed would otherwise draw it 300 px wide.
    chart = comparison_chart(result, series, models, colors=charts.LIGHT_LINE_COLORS)
    spec = json.dumps(chart.properties(width="container").to_dict())
    # Inside <script>, '</script>' in a series name would end the element: escape < > &.
    spec = spec.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return (
        f"<h2>Backtest: {_e(series)}</h2>\n"
        f'<p class="caption">{_e(", ".join(model_label(m) for m in models))} against the '
        "actuals; dashed lines mark the cutoffs.</p>\n"
        # vega-embed replaces the placeholder once the chart is drawn
        '<div id="chart"><p class="caption">The chart is drawn by JavaScript: it appears '
        "when the browser runs the page's scripts.</p></div>\n"
        f"{_chart_library()}\n"
        f'<script>vegaEmbed("#chart", {spec}, {{"actions": false}});</script>'
    )


def _chart_library() -> str:
    """vega, vega-lite and vega-embed in one inline script, so the chart draws offline."""
    import vl_convert  # imported here: only a report needs the bundle

    # vl-convert names a Vega-Lite version as 'v6_4'; altair's is 'v6.4.0'.
    version = "_".join(alt.SCHEMA_VERSION.split(".")[:2])
    bundle = vl_convert.javascript_bundle(vl_version=version)
    # The bundle holds no '</script', but one would end the element early: keep it inert.
    inert = bundle.replace("</script", "<\\/script")
    return f"<script>\n{inert}\n</script>"
