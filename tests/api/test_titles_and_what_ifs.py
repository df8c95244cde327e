"""Models by their titles, and what-if runs told apart from the base forecast in results."""

from __future__ import annotations

import pytest

from salesml import predictions, registry
from salesml.zoo import model_label
from tests.api.conftest import V1


@pytest.mark.slow
def test_a_model_is_listed_with_its_title_and_the_name_it_is_shown_by(client, services, trained):
    [untitled] = client.get(f"{V1}/models").json()
    assert untitled["title"] is None
    readable = model_label(untitled["name"])  # the model the training chose
    assert untitled["display_name"] == f"{readable} · category monthly revenue"
    registry.rename_model(services.engine(), trained, "Spring plan")
    titled = client.get(f"{V1}/models/{trained}").json()
    assert (titled["title"], titled["display_name"]) == ("Spring plan", "Spring plan")


@pytest.mark.slow
def test_results_name_the_what_if_each_run_was_saved_as(client, services, trained):
    base = client.post(f"{V1}/models/{trained}/forecast", json={"horizon": 2, "save": True})
    model, record = registry.load_model(
        services.engine(), trained, model_dir=services.settings.model_dir
    )
    what_if = predictions.store_forecast(
        services.engine(), predictions.forecast_frame(model, 2), record, scenario="Promo"
    )
    runs = client.get(f"{V1}/predictions/runs").json()
    assert [(r["run_id"], r["scenario"]) for r in runs] == [
        (what_if, "Promo"),
        (base.json()["run_id"], ""),
    ]
    stored = client.get(f"{V1}/predictions", params={"model_id": trained}).json()
    assert sorted({(s["run_id"], s["scenario"]) for s in stored}) == sorted(
        (r["run_id"], r["scenario"]) for r in runs
    )
    assert len(stored) == 8  # two series, two periods, two runs: neither replaced the other
