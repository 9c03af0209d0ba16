# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Required secrets: set everywhere, and really replaced in staging and production."""

from ansible_collections.normaldance.platform.plugins.module_utils.platform_variables import SECRETS
from ansible_collections.normaldance.platform.plugins.module_utils.profiles import PLACEHOLDER, PLACEHOLDER_FORBIDDEN_IN
from ansible_collections.normaldance.platform.plugins.module_utils.validation.model import MASK


def check_secrets(settings, environment):
    """Report secrets that are missing, or still the shipped placeholder where that is not allowed."""
    problems = []
    for name in SECRETS:
        setting = settings[name]
        if not setting.is_set:
            problems.append(
                "%s (group all): not set; this secret is required (store it encrypted with ansible-vault, see docs/inventory.md)"
                % name
            )
        elif setting.valid and setting.value == PLACEHOLDER and environment in PLACEHOLDER_FORBIDDEN_IN:
            problems.append(
                "%s: %s is the shipped placeholder; replace it with an ansible-vault encrypted value before deploying %s"
                % (setting.head(), MASK, environment)
            )
    return problems
