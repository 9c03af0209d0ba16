# -*- coding: utf-8 -*-
# Copyright: contributors to the normaldance.platform collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test duration (documented in duration.yml): a value the collection's duration parser accepts."""

from __future__ import annotations

from ansible_collections.normaldance.platform.plugins.module_utils.duration import DurationError, parse_duration


def duration(value):
    """True when ``value`` is a duration such as ``30d`` or ``1h30m`` (module_utils/duration.py)."""
    try:
        parse_duration(value)
    except DurationError:
        return False
    return True


class TestModule:
    def tests(self):
        return {"duration": duration}
