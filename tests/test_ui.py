"""salesml.ui: what the Streamlit glue sets up for the server process."""

from __future__ import annotations

import json
import subprocess
import sys

TRAIN_IN_THE_APP = """
import json
from threadpoolctl import threadpool_info
from salesml import ui

from salesml import training  # loads scikit-learn's OpenMP runtime, as ui.train does
before = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "openmp"]
ui._one_openmp_thread()
after = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "openmp"]
print(json.dumps({"before": before, "after": after}))
"""


def test_the_app_fits_models_with_one_openmp_thread() -> None:
    # In a process of its own: the limit is process-wide and would outlive the test.
    done = subprocess.run(
        [sys.executable, "-c", TRAIN_IN_THE_APP], capture_output=True, text=True, check=True
    )
    threads = json.loads(done.stdout.strip().splitlines()[-1])
    assert threads["before"], "scikit-learn's OpenMP runtime was not loaded"
    assert threads["after"] == [1] * len(threads["before"])
