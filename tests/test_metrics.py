"""Accuracy scores: one definition for backtests, stored forecasts and reports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesml import metrics


@pytest.fixture
def judged() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unique_id": ["a", "a", "b", "b"],
            "y": [10.0, 20.0, 0.0, 4.0],
            "f": [12.0, 16.0, 0.0, 5.0],
            "scale": [2.0, 2.0, 0.5, 0.5],
        }
    )


def test_pooled_scores_cover_every_point(judged):
    row = metrics.score(judged, "f", scale="scale")
    assert row["mae"] == pytest.approx((2 + 4 + 0 + 1) / 4)
    assert row["rmse"] == pytest.approx(np.sqrt((4 + 16 + 0 + 1) / 4))
    assert row["bias"] == pytest.approx((2 - 4 + 0 + 1) / 4)  # forecast minus actual
    assert row["mase"] == pytest.approx((1 + 2 + 0 + 2) / 4)  # each error over its own scale
    assert row["smape"] == pytest.approx(200 * (2 / 22 + 4 / 36 + 0 + 1 / 9) / 4)


def test_scores_per_series_and_r_squared_against_each_series_mean(judged):
    table = metrics.scores(judged, "f", by="unique_id", scale="scale")
    assert table.index.tolist() == ["a", "b"]
    assert table.at["a", "mae"] == pytest.approx(3.0)
    assert table.at["a", "r2"] == pytest.approx(1 - (4 + 16) / 50)
    assert table.at["b", "smape"] == pytest.approx(200 * (0 + 1 / 9) / 2)


def test_without_a_scale_there_is_no_mase_and_a_constant_actual_has_no_r_squared():
    flat = pd.DataFrame({"y": [5.0, 5.0], "f": [4.0, 6.0]})
    row = metrics.score(flat, "f")
    assert "mase" not in row.index
    assert np.isnan(row["r2"])


def test_coverage_counts_actuals_inside_the_range():
    frame = pd.DataFrame({"y": [1.0, 5.0, 9.0], "lower_80": [0.0, 6.0, 8.0], "upper_80": 9.0})
    assert metrics.coverage(frame, 80) == pytest.approx(2 / 3)
