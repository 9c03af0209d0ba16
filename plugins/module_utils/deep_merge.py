# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deep merge of nested mappings, as used for profile overrides."""

import copy
from collections.abc import Mapping


def deep_merge(base, override):
    """Return a new dict: ``override`` merged into ``base``, mappings recursively.

    Values other than mappings (lists included) replace the base value.
    Neither argument is modified.
    """
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
