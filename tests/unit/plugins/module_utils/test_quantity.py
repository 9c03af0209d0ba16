"""module_utils.quantity: the Kubernetes quantity grammar, table-driven from a fixture file."""
from decimal import Decimal
import pathlib

import pytest
import yaml

from ansible_collections.normaldance.platform.plugins.module_utils.quantity import QuantityError, parse_quantity

TABLE = yaml.safe_load((pathlib.Path(__file__).parent / "fixtures" / "validation" / "quantities.yml").read_text())


@pytest.mark.parametrize("row", TABLE["valid"], ids=lambda row: row["text"])
def test_valid_quantities(row):
    assert parse_quantity(row["text"]) == Decimal(row["value"])


@pytest.mark.parametrize("text", TABLE["invalid"], ids=repr)
def test_invalid_quantities(text):
    with pytest.raises(QuantityError):
        parse_quantity(text)


@pytest.mark.parametrize("value,expected", [(2, Decimal(2)), (0.5, Decimal("0.5"))])
def test_numbers_are_quantities(value, expected):
    assert parse_quantity(value) == expected


@pytest.mark.parametrize("value", [True, None, ["1"], {"cpu": "1"}])
def test_other_types_are_not_quantities(value):
    with pytest.raises(QuantityError):
        parse_quantity(value)


def test_binary_and_decimal_suffixes_differ():
    assert parse_quantity("1Gi") > parse_quantity("1G")
    assert parse_quantity("1000m") == parse_quantity("1")
