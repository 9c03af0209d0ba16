# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse Kubernetes resource quantities (``250m``, ``1.5Gi``, ``12e6``).

The grammar follows the Kubernetes API's ``resource.Quantity``:
a signed decimal number followed by an optional suffix, which is a binary
SI suffix (``Ki`` .. ``Ei``), a decimal SI suffix (``n``, ``u``, ``m``,
``k``, ``M`` .. ``E``) or a decimal exponent (``e3``, ``E-2``).
"""

import re
from decimal import Decimal, InvalidOperation

BINARY_SUFFIXES = {
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}

DECIMAL_SUFFIXES = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}

_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?:(?P<exponent>[eE][+-]?[0-9]+)|(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)"
)


class QuantityError(ValueError):
    """Raised when a string is not a Kubernetes quantity."""


def parse_quantity(value):
    """Return the quantity ``value`` as a :class:`~decimal.Decimal` in base units.

    Integers and floats are accepted as plain numbers. Anything else that
    does not match the Kubernetes quantity grammar raises QuantityError.
    """
    if isinstance(value, bool):
        raise QuantityError("a boolean is not a quantity")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if not isinstance(value, str):
        raise QuantityError("a quantity must be a string or a number")
    match = _QUANTITY.fullmatch(value)
    if not match:
        raise QuantityError("not a Kubernetes quantity")
    try:
        number = Decimal(match.group("number"))
        if match.group("exponent"):
            return number * (Decimal(10) ** int(match.group("exponent")[1:]))
        suffix = match.group("suffix") or ""
        if suffix in BINARY_SUFFIXES:
            return number * BINARY_SUFFIXES[suffix]
        return number * DECIMAL_SUFFIXES[suffix]
    except (InvalidOperation, OverflowError) as exc:
        raise QuantityError("not a Kubernetes quantity") from exc
