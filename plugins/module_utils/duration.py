# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse retention periods and intervals such as ``30d``, ``12h`` or ``1h30m``."""

import re

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

_PART = re.compile(r"([0-9]+)([smhdw])")
_WHOLE = re.compile(r"(?:[0-9]+[smhdw])+")


class DurationError(ValueError):
    """Raised when a string is not a duration."""


def parse_duration(value):
    """Return the number of seconds in ``value`` (``'90d'`` -> 7776000).

    A duration is one or more ``<integer><unit>`` parts with the units
    ``s``, ``m``, ``h``, ``d`` and ``w``; the total must be positive.
    """
    if not isinstance(value, str) or not _WHOLE.fullmatch(value):
        raise DurationError("not a duration")
    seconds = sum(int(amount) * UNITS[unit] for amount, unit in _PART.findall(value))
    if seconds <= 0:
        raise DurationError("a duration must be longer than zero")
    return seconds
