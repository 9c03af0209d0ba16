# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection-wide inventory variables (``platform_*``): the one list.

Every name here is documented in ``docs/variables.md`` (a unit test keeps
both in step). ``scope`` is ``cluster`` for values that must be the same on
every host and ``host`` for per-host values. A ``default`` of None with
``required`` set means the inventory has to provide the value.
"""

from ansible_collections.normaldance.platform.plugins.module_utils.profiles import ENVIRONMENTS

PREFIX = "platform_"


def _var(kind, default=None, required=False, scope="cluster", secret=False, choices=None):
    return {
        "type": kind,
        "default": default,
        "required": required,
        "scope": scope,
        "secret": secret,
        "choices": choices,
    }


VARIABLES = {
    "platform_environment": _var("str", required=True, choices=list(ENVIRONMENTS)),
    "platform_kubernetes_version": _var("version", required=True),
    "platform_kubernetes_upgrade_from": _var("version"),
    "platform_node_network": _var("cidr", required=True),
    "platform_pod_network": _var("cidr", default="10.244.0.0/16"),
    "platform_service_network": _var("cidr", default="10.96.0.0/12"),
    "platform_cluster_domain": _var("str", default="cluster.local"),
    "platform_api_endpoint_address": _var("ip", required=True),
    "platform_api_endpoint_port": _var("port", default=6443),
    "platform_node_ip": _var("ip", scope="host"),
    "platform_allow_cgroup_v1": _var("bool", default=False),
    "platform_cgroup_driver": _var("str", default="systemd", choices=["systemd", "cgroupfs"]),
    "platform_ntp_servers": _var("strlist", default=["pool.ntp.org"]),
    "platform_files_mirror_url": _var("url", default="https://dl.k8s.io"),
    "platform_image_repository": _var("str", default="registry.k8s.io"),
    "platform_insecure_registries": _var("registries", default=[]),
    "platform_image_registry": _var("image_registry"),
    "platform_image_digests": _var("digests", default={}),
    "platform_profile_overrides": _var("dict", default={}),
    "platform_kubeconfig": _var("str"),
    "platform_postgresql_superuser_password": _var("str", required=True, secret=True),
    "platform_postgresql_replication_password": _var("str", required=True, secret=True),
    "platform_postgresql_app_password": _var("str", required=True, secret=True),
    "platform_redis_password": _var("str", required=True, secret=True),
    "platform_vault_unseal_passphrase": _var("str", required=True, secret=True),
    "platform_grafana_admin_password": _var("str", required=True, secret=True),
    "platform_backup_encryption_passphrase": _var("str", required=True, secret=True),
}

SECRETS = tuple(sorted(name for name, spec in VARIABLES.items() if spec["secret"]))


def default_of(name):
    """Return the documented default of the variable ``name``."""
    return VARIABLES[name]["default"]
