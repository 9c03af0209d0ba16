# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter normaldance.platform.environment_profile (documented in environment_profile.yml)."""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.normaldance.platform.plugins.module_utils.profiles import ProfileError, environment_profile
from ansible_collections.normaldance.platform.plugins.module_utils.validation.model import plain


def environment_profile_filter(environment, overrides=None):
    """Return the profile of ``environment`` with ``overrides`` merged in."""
    if overrides is not None and not isinstance(overrides, Mapping):
        raise AnsibleFilterError("environment_profile: the overrides must be a mapping")
    try:
        return environment_profile(plain(environment), plain(overrides) if overrides is not None else None)
    except ProfileError as exc:
        raise AnsibleFilterError("environment_profile: %s" % exc) from exc


class FilterModule:
    """The environment profile filter."""

    def filters(self):
        return {"environment_profile": environment_profile_filter}
