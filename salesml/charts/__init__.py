"""Altair charts of sales series and forecasts (no Streamlit here; pages draw them).

One module per job: palette (colours), figures (numbers as tiles show them), axes (time
ticks, tooltips, measure titles), forecasts, comparison (a training's backtest) and
explorer (the Explorer's and the Overview's views).
"""

from __future__ import annotations

from salesml.charts.axes import MAX_TICKS, MEASURE_TITLES, measure_title, time_axis
from salesml.charts.comparison import (
    BACKTEST_ACTUAL,
    CUTOFF_COLOR,
    LARGE_LEGEND_PX,
    LEGEND_PX,
    WRAP_CHARS,
    backtest_chart,
    importance_chart,
)
from salesml.charts.explorer import (
    CATEGORY_PICK,
    PRODUCT_PICK,
    YEAR_COLORS,
    YEAR_LEGEND_COLUMNS,
    category_chart,
    month_year_heatmap,
    over_time_chart,
    rolling_title,
    top_products_chart,
    trend_chart,
    weekday_heatmap,
    year_over_year_chart,
)
from salesml.charts.figures import compact_amount, compact_number, money
from salesml.charts.forecasts import forecast_chart, predicted_vs_actual_chart
from salesml.charts.palette import (
    LIGHT_LINE_COLORS,
    LINE_DASHES,
    RANGE_COLORS,
    SALES_COLOR,
    SALES_LIGHT_COLOR,
)

__all__ = [
    "BACKTEST_ACTUAL",
    "CATEGORY_PICK",
    "CUTOFF_COLOR",
    "LARGE_LEGEND_PX",
    "LEGEND_PX",
    "LIGHT_LINE_COLORS",
    "LINE_DASHES",
    "MAX_TICKS",
    "MEASURE_TITLES",
    "PRODUCT_PICK",
    "RANGE_COLORS",
    "SALES_COLOR",
    "SALES_LIGHT_COLOR",
    "WRAP_CHARS",
    "YEAR_COLORS",
    "YEAR_LEGEND_COLUMNS",
    "backtest_chart",
    "category_chart",
    "compact_amount",
    "compact_number",
    "forecast_chart",
    "importance_chart",
    "measure_title",
    "money",
    "month_year_heatmap",
    "over_time_chart",
    "predicted_vs_actual_chart",
    "rolling_title",
    "time_axis",
    "top_products_chart",
    "trend_chart",
    "weekday_heatmap",
    "year_over_year_chart",
]
