"""module_utils.duration: retention periods and intervals."""
import pathlib

import pytest
import yaml

from ansible_collections.normaldance.platform.plugins.module_utils.duration import DurationError, parse_duration

TABLE = yaml.safe_load((pathlib.Path(__file__).parent / "fixtures" / "validation" / "durations.yml").read_text())


@pytest.mark.parametrize("row", TABLE["valid"], ids=lambda row: row["text"])
def test_valid_durations(row):
    assert parse_duration(row["text"]) == row["seconds"]


@pytest.mark.parametrize("text", TABLE["invalid"], ids=repr)
def test_invalid_durations(text):
    with pytest.raises(DurationError):
        parse_duration(text)


@pytest.mark.parametrize("value", [30, None, ["30d"]])
def test_non_strings_are_not_durations(value):
    with pytest.raises(DurationError):
        parse_duration(value)
