"""Settings: the environment first, then the secrets' [salesml] table, checked as read."""

from __future__ import annotations

import pytest

from salesml.config import load_settings
from salesml.errors import ConfigError


def test_the_defaults_are_one_training_at_a_time_and_200_mb_uploads(tmp_path):
    settings = load_settings({"SALESML_DATA_DIR": str(tmp_path)})
    assert (settings.max_trainings, settings.max_upload_mb) == (1, 200)


def test_the_environment_outranks_the_secrets(tmp_path):
    settings = load_settings(
        {"SALESML_DATA_DIR": str(tmp_path), "SALESML_MAX_TRAININGS": "3"},
        secrets={"salesml": {"max_trainings": 2, "max_upload_mb": 50}},
    )
    assert (settings.max_trainings, settings.max_upload_mb) == (3, 50)


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("SALESML_MAX_TRAININGS", "two", "whole number of trainings"),
        ("SALESML_MAX_TRAININGS", "0", "must be positive"),
        ("SALESML_MAX_UPLOAD_MB", "1.5", "whole number of megabytes"),
        ("SALESML_MAX_UPLOAD_MB", "-3", "must be positive"),
    ],
)
def test_a_malformed_limit_is_a_config_error_naming_it(tmp_path, name, value, fragment):
    with pytest.raises(ConfigError, match=fragment) as caught:
        load_settings({"SALESML_DATA_DIR": str(tmp_path), name: value})
    assert name in str(caught.value)


def test_no_currency_is_shown_by_default(tmp_path):
    assert load_settings({"SALESML_DATA_DIR": str(tmp_path)}).currency == ""


@pytest.mark.parametrize(
    ("environ", "secrets", "currency"),
    [
        ({"SALESML_CURRENCY": "EUR"}, None, "EUR"),
        ({"SALESML_CURRENCY": " € "}, None, "€"),
        ({}, {"salesml": {"currency": "$"}}, "$"),
        ({"SALESML_CURRENCY": "CHF"}, {"salesml": {"currency": "$"}}, "CHF"),
    ],
)
def test_the_currency_comes_from_the_environment_or_the_secrets(
    tmp_path, environ, secrets, currency
):
    settings = load_settings({"SALESML_DATA_DIR": str(tmp_path), **environ}, secrets=secrets)
    assert settings.currency == currency


@pytest.mark.parametrize("value", ["EURO€", "US dollar", "**x**", "[a](b)", "1$", "<b>"])
def test_a_currency_that_is_not_a_short_code_or_symbol_is_a_config_error(tmp_path, value):
    with pytest.raises(ConfigError, match="SALESML_CURRENCY") as caught:
        load_settings({"SALESML_DATA_DIR": str(tmp_path), "SALESML_CURRENCY": value})
    assert "EUR" in str(caught.value)
