"""module_utils.profiles and deep_merge: the environment profiles, kept once."""
import pytest

from ansible_collections.normaldance.platform.plugins.module_utils import deep_merge, profiles
from ansible_collections.normaldance.platform.plugins.module_utils.duration import parse_duration
from ansible_collections.normaldance.platform.plugins.module_utils.quantity import parse_quantity

LEVELS = {
    # environment: (replicas, resources, monitoring, backup, security)
    "lab": (1, "minimal", "basic", "none", "basic"),
    "development": (1, "minimal", "basic", "none", "basic"),
    "staging": (2, "medium", "enhanced", "daily", "enhanced"),
    "production": (3, "full", "full", "hourly+daily", "full"),
}


@pytest.mark.parametrize("environment", sorted(LEVELS))
def test_profile_levels_follow_the_environment_table(environment):
    replicas, resources, monitoring, backup, security = LEVELS[environment]
    profile = profiles.environment_profile(environment)
    assert profile["environment"] == environment
    assert profile["minimum_replicas"] == replicas
    assert min(profile["replicas"].values()) >= replicas
    assert profile["resources"]["level"] == resources
    assert profile["monitoring"]["level"] == monitoring
    assert profile["backup"]["level"] == backup
    assert profile["security"]["level"] == security


@pytest.mark.parametrize("environment", sorted(LEVELS))
def test_shipped_profiles_obey_their_own_rules(environment):
    profile = profiles.environment_profile(environment)
    for component, spec in profile["resources"].items():
        if component == "level":
            continue
        for resource in ("cpu", "memory"):
            assert parse_quantity(spec["requests"][resource]) <= parse_quantity(spec["limits"][resource]), component
    for section, keys in profiles.DURATION_KEYS.items():
        for key in keys:
            assert parse_duration(profile[section][key]) > 0


def test_production_keeps_hourly_and_daily_backups():
    backup = profiles.environment_profile("production")["backup"]
    assert backup["enabled"] and backup["wal_archiving"]
    assert parse_duration(backup["wal_interval"]) == 3600
    assert parse_duration(backup["full_interval"]) == 86400
    assert profiles.environment_profile("development")["backup"]["enabled"] is False


def test_overrides_merge_deeply_and_leave_the_data_alone():
    before = profiles.environment_profile("production")
    merged = profiles.environment_profile("production", {"replicas": {"api": 5}, "resources": {"api": {"limits": {"cpu": "3"}}}})
    assert merged["replicas"]["api"] == 5
    assert merged["replicas"]["frontend"] == before["replicas"]["frontend"]
    assert merged["resources"]["api"]["limits"] == {"cpu": "3", "memory": before["resources"]["api"]["limits"]["memory"]}
    assert profiles.environment_profile("production") == before


@pytest.mark.parametrize("environment,overrides", [("prod", None), ("production", ["replicas"])])
def test_bad_input_is_refused(environment, overrides):
    with pytest.raises(profiles.ProfileError):
        profiles.environment_profile(environment, overrides)


@pytest.mark.parametrize("base,override,expected", [
    ({"a": 1}, {"b": 2}, {"a": 1, "b": 2}),
    ({"a": {"x": 1, "y": 2}}, {"a": {"y": 3}}, {"a": {"x": 1, "y": 3}}),
    ({"a": [1, 2]}, {"a": [3]}, {"a": [3]}),
    ({"a": {"x": 1}}, {"a": 5}, {"a": 5}),
    ({"a": 5}, {"a": {"x": 1}}, {"a": {"x": 1}}),
])
def test_deep_merge(base, override, expected):
    copy_of_base = dict(base)
    assert deep_merge.deep_merge(base, override) == expected
    assert base == copy_of_base
