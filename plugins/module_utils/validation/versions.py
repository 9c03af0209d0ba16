# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes version: supported range and upgrade skew."""

from ansible_collections.normaldance.platform.plugins.module_utils import kubernetes_version
from ansible_collections.normaldance.platform.plugins.module_utils.validation.model import show


def check_versions(settings):
    """Report an unsupported Kubernetes version or a forbidden upgrade step."""
    problems = []
    target = settings["platform_kubernetes_version"]
    if target.parsed is None:
        return problems
    if not kubernetes_version.is_supported(target.parsed):
        problems.append(
            "%s: %s is outside the supported range; this collection supports Kubernetes %s"
            % (target.head(), show(target.value), kubernetes_version.supported_range_text())
        )
    source = settings["platform_kubernetes_upgrade_from"]
    if source.parsed is None:
        return problems
    reason = kubernetes_version.skew_problem(source.parsed, target.parsed)
    if reason:
        problems.append(
            "%s: upgrading from %s to platform_kubernetes_version %s is not allowed: %s; "
            "upgrades go forward one minor version at a time"
            % (source.head(), show(source.value), show(target.value), reason)
        )
    return problems
