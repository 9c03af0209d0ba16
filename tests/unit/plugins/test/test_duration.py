"""test duration: role checks accept exactly what module_utils.duration parses."""
import pathlib

import pytest
import yaml

from ansible_collections.normaldance.platform.plugins.test import duration as duration_plugin

DURATION = duration_plugin.TestModule().tests()["duration"]
TABLE = yaml.safe_load((pathlib.Path(__file__).parents[1] / "module_utils" / "fixtures" / "validation"
                        / "durations.yml").read_text())


@pytest.mark.parametrize("text", [row["text"] for row in TABLE["valid"]])
def test_valid(text):
    assert DURATION(text) is True


@pytest.mark.parametrize("value", TABLE["invalid"] + [None, 30, ["30d"]], ids=repr)
def test_invalid(value):
    assert DURATION(value) is False
