# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Environment profiles: the one copy of what each environment gets.

An inventory selects a profile with ``platform_environment`` and may adjust
it with ``platform_profile_overrides`` (merged deeply into the profile).
Roles read the merged result through the filter
``normaldance.platform.environment_profile``; the validator checks it.
The ``lab`` environment uses the development profile.
"""

import copy

from ansible_collections.normaldance.platform.plugins.module_utils.deep_merge import deep_merge

ENVIRONMENTS = ("lab", "development", "staging", "production")

# The smallest replica count any component may run with, per environment.
# It is a rule, not a setting, so overrides cannot lower it.
MINIMUM_REPLICAS = {"lab": 1, "development": 1, "staging": 2, "production": 3}

# The smallest number of control planes per environment (always odd).
MINIMUM_CONTROL_PLANES = {"lab": 1, "development": 1, "staging": 1, "production": 3}

# Secrets that must be replaced before staging or production is deployed.
PLACEHOLDER = "CHANGE_ME"
PLACEHOLDER_FORBIDDEN_IN = ("staging", "production")


def _resources(cpu_request, memory_request, cpu_limit, memory_limit):
    return {
        "requests": {"cpu": cpu_request, "memory": memory_request},
        "limits": {"cpu": cpu_limit, "memory": memory_limit},
    }


_DEVELOPMENT = {
    "replicas": {"frontend": 1, "api": 1, "worker": 1, "rpc_proxy": 1, "postgresql": 1, "redis": 1, "ipfs": 1, "vault": 1},
    "resources": {
        "level": "minimal",
        "frontend": _resources("50m", "128Mi", "250m", "256Mi"),
        "api": _resources("100m", "128Mi", "500m", "512Mi"),
        "worker": _resources("50m", "128Mi", "250m", "256Mi"),
        "rpc_proxy": _resources("25m", "64Mi", "100m", "128Mi"),
        "postgresql": _resources("100m", "256Mi", "500m", "512Mi"),
        "redis": _resources("25m", "64Mi", "100m", "128Mi"),
        "ipfs": _resources("50m", "256Mi", "250m", "512Mi"),
        "vault": _resources("50m", "128Mi", "250m", "256Mi"),
        # ResourceQuota of each platform namespace (sum over its pods) and
        # LimitRange default of a container that declares nothing.
        "namespace_quota": _resources("4", "8Gi", "8", "16Gi"),
        "container_default": _resources("50m", "64Mi", "250m", "256Mi"),
    },
    "autoscaling": {"enabled": False, "cpu_target_percent": 70, "memory_target_percent": 80, "api_max_replicas": 1},
    "monitoring": {
        "level": "basic",
        "metrics_retention": "7d",
        "logs_retention": "7d",
        "alerting": False,
        "tracing": False,
        "dashboards": ["cluster"],
    },
    "backup": {
        "level": "none",
        "enabled": False,
        "full_interval": "24h",
        "full_retention": "3d",
        "wal_archiving": False,
        "wal_interval": "1h",
        "wal_retention": "1d",
        "second_copy": False,
        "etcd_snapshot_interval": "24h",
        "etcd_snapshot_retention": "3d",
    },
    "security": {
        "level": "basic",
        # Every environment denies by default: the platform roles open the
        # flows they need, so development behaves as production does.
        "network_policies_default_deny": True,
        "pod_security_standard": "baseline",
        "secrets_encryption_at_rest": True,
        "audit_log": False,
        "audit_log_retention": "7d",
        "vault_audit": False,
    },
}

_STAGING = {
    "replicas": {"frontend": 2, "api": 2, "worker": 2, "rpc_proxy": 2, "postgresql": 2, "redis": 2, "ipfs": 2, "vault": 3},
    "resources": {
        "level": "medium",
        "frontend": _resources("100m", "256Mi", "500m", "512Mi"),
        "api": _resources("250m", "256Mi", "1", "1Gi"),
        "worker": _resources("100m", "256Mi", "500m", "512Mi"),
        "rpc_proxy": _resources("50m", "64Mi", "250m", "256Mi"),
        "postgresql": _resources("250m", "512Mi", "1", "2Gi"),
        "redis": _resources("50m", "128Mi", "250m", "512Mi"),
        "ipfs": _resources("100m", "512Mi", "500m", "1Gi"),
        "vault": _resources("100m", "256Mi", "500m", "512Mi"),
        "namespace_quota": _resources("16", "32Gi", "32", "64Gi"),
        "container_default": _resources("100m", "128Mi", "500m", "512Mi"),
    },
    "autoscaling": {"enabled": True, "cpu_target_percent": 70, "memory_target_percent": 80, "api_max_replicas": 6},
    "monitoring": {
        "level": "enhanced",
        "metrics_retention": "15d",
        "logs_retention": "30d",
        "alerting": True,
        "tracing": False,
        "dashboards": ["cluster", "application", "database"],
    },
    "backup": {
        "level": "daily",
        "enabled": True,
        "full_interval": "24h",
        "full_retention": "7d",
        "wal_archiving": False,
        "wal_interval": "1h",
        "wal_retention": "1d",
        "second_copy": False,
        "etcd_snapshot_interval": "24h",
        "etcd_snapshot_retention": "7d",
    },
    "security": {
        "level": "enhanced",
        "network_policies_default_deny": True,
        "pod_security_standard": "baseline",
        "secrets_encryption_at_rest": True,
        "audit_log": True,
        "audit_log_retention": "30d",
        "vault_audit": True,
    },
}

_PRODUCTION = {
    "replicas": {"frontend": 3, "api": 3, "worker": 3, "rpc_proxy": 3, "postgresql": 3, "redis": 3, "ipfs": 3, "vault": 3},
    "resources": {
        "level": "full",
        "frontend": _resources("250m", "512Mi", "1", "1Gi"),
        "api": _resources("500m", "512Mi", "2", "2Gi"),
        "worker": _resources("250m", "512Mi", "1", "1Gi"),
        "rpc_proxy": _resources("100m", "128Mi", "500m", "512Mi"),
        "postgresql": _resources("1", "2Gi", "4", "8Gi"),
        "redis": _resources("250m", "512Mi", "1", "2Gi"),
        "ipfs": _resources("250m", "1Gi", "1", "4Gi"),
        "vault": _resources("250m", "512Mi", "1", "1Gi"),
        "namespace_quota": _resources("64", "128Gi", "128", "256Gi"),
        "container_default": _resources("100m", "128Mi", "1", "1Gi"),
    },
    "autoscaling": {"enabled": True, "cpu_target_percent": 70, "memory_target_percent": 80, "api_max_replicas": 20},
    "monitoring": {
        "level": "full",
        "metrics_retention": "30d",
        "logs_retention": "90d",
        "alerting": True,
        "tracing": True,
        "dashboards": ["cluster", "application", "database", "business", "infrastructure"],
    },
    "backup": {
        "level": "hourly+daily",
        "enabled": True,
        "full_interval": "24h",
        "full_retention": "30d",
        "wal_archiving": True,
        "wal_interval": "1h",
        "wal_retention": "7d",
        "second_copy": True,
        "etcd_snapshot_interval": "1h",
        "etcd_snapshot_retention": "7d",
    },
    "security": {
        "level": "full",
        "network_policies_default_deny": True,
        "pod_security_standard": "restricted",
        "secrets_encryption_at_rest": True,
        "audit_log": True,
        "audit_log_retention": "90d",
        "vault_audit": True,
    },
}

PROFILES = {
    "lab": _DEVELOPMENT,
    "development": _DEVELOPMENT,
    "staging": _STAGING,
    "production": _PRODUCTION,
}

# Where a profile value is a retention period or an interval (checked by the validator).
DURATION_KEYS = {
    "monitoring": ("metrics_retention", "logs_retention"),
    "backup": ("full_interval", "full_retention", "wal_interval", "wal_retention",
               "etcd_snapshot_interval", "etcd_snapshot_retention"),
    "security": ("audit_log_retention",),
}


class ProfileError(ValueError):
    """Raised for an unknown environment or unusable overrides."""


def environment_profile(environment, overrides=None):
    """Return the profile of ``environment`` with ``overrides`` merged in.

    The result is a new dict that also names its ``environment``.
    """
    if environment not in PROFILES:
        raise ProfileError("unknown environment %r; expected one of %s" % (environment, ", ".join(ENVIRONMENTS)))
    if overrides is None:
        overrides = {}
    if not isinstance(overrides, dict):
        raise ProfileError("the profile overrides must be a mapping")
    profile = deep_merge(copy.deepcopy(PROFILES[environment]), overrides)
    profile["environment"] = environment
    profile["minimum_replicas"] = MINIMUM_REPLICAS[environment]
    return profile
