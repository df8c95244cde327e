"""A long stretch without sales between loaded files is pointed out where it matters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from salesml.db import create_engine_for, init_db
from salesml.ingest import ingest_file
from tests.app.driver import open_page, texts

HEADER = "Order Date,Product Name,Category,Quantity,Sales\n"
EARLY = HEADER + "".join(f"2017-{m:02d}-15,Pen,Office,1,2.00\n" for m in range(1, 13))
LATE = HEADER + "".join(f"2022-{m:02d}-15,Pen,Office,1,3.00\n" for m in range(1, 13))
GAP = "No sales between Jan 2018 and Dec 2021 (48 months): training treats them as zero sales"


@pytest.fixture
def loaded_2017(app_dir: Path) -> Iterator[Engine]:
    """The app's database with 2017 loaded."""
    engine = create_engine_for(f"sqlite:///{app_dir / 'app.db'}")
    init_db(engine)
    ingest_file(engine, EARLY.encode(), name="2017.csv")
    yield engine
    engine.dispose()


@pytest.fixture
def with_gap(loaded_2017: Engine) -> Engine:
    """2017 and 2022 loaded as two files, four empty years between them."""
    ingest_file(loaded_2017, LATE.encode(), name="2022.csv")
    return loaded_2017


def test_the_data_page_warns_of_a_gap_between_loads(with_gap: Engine) -> None:
    at = open_page("pages/data.py")
    assert GAP in texts(at.warning)
    assert "Delete one of the batches below" in texts(at.warning)


def test_the_data_page_says_nothing_of_gaps_in_continuous_data(loaded_2017: Engine) -> None:
    assert "No sales between" not in texts(open_page("pages/data.py").warning)


def test_the_train_page_warns_of_the_gap_beside_its_settings(with_gap: Engine) -> None:
    at = open_page("pages/train.py")
    assert GAP in texts(at.warning)
    assert "'Sales up to'" in texts(at.warning)


def test_the_train_page_counts_the_gap_at_the_chosen_frequency(with_gap: Engine) -> None:
    at = open_page("pages/train.py")
    at.selectbox(key="train_freq").set_value("Q").run()
    assert "No sales between Q1 2018 and Q4 2021 (16 quarters)" in texts(at.warning)


def test_the_train_page_drops_the_warning_once_training_ends_before_the_gap(
    with_gap: Engine,
) -> None:
    import datetime as dt

    at = open_page("pages/train.py")
    [end] = [d for d in at.date_input if d.key.startswith("train_end_")]
    end.set_value(dt.date(2017, 12, 31)).run()
    assert "No sales between" not in texts(at.warning)
