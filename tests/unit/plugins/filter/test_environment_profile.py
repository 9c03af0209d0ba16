"""filter environment_profile: the profile as roles read it."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.normaldance.platform.plugins.filter.environment_profile import FilterModule

FILTER = FilterModule().filters()["environment_profile"]


@pytest.mark.parametrize("environment,overrides,path,expected", [
    ("development", None, ("replicas", "api"), 1),
    ("lab", {}, ("resources", "level"), "minimal"),
    ("staging", None, ("monitoring", "level"), "enhanced"),
    ("production", None, ("backup", "level"), "hourly+daily"),
    ("production", {"replicas": {"api": 4}}, ("replicas", "api"), 4),
    ("production", {"replicas": {"api": 4}}, ("replicas", "frontend"), 3),
    ("staging", {"monitoring": {"logs_retention": "60d"}}, ("monitoring", "logs_retention"), "60d"),
    ("production", None, ("minimum_replicas",), 3),
])
def test_profile_values(environment, overrides, path, expected):
    value = FILTER(environment, overrides)
    for key in path:
        value = value[key]
    assert value == expected


@pytest.mark.parametrize("environment,overrides", [("qa", None), ("production", "replicas")])
def test_bad_input_raises_a_filter_error(environment, overrides):
    with pytest.raises(AnsibleFilterError, match="^environment_profile: "):
        FILTER(environment, overrides)
