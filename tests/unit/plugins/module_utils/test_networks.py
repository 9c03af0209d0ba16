"""module_utils.networks: strict addresses and networks (netaddr)."""
import pathlib

import pytest
import yaml

from ansible_collections.normaldance.platform.plugins.module_utils import networks

TABLE = yaml.safe_load((pathlib.Path(__file__).parent / "fixtures" / "validation" / "networks.yml").read_text())


@pytest.mark.parametrize("text", TABLE["addresses"]["valid"])
def test_valid_addresses(text):
    assert str(networks.parse_address(text)) == text


@pytest.mark.parametrize("text", TABLE["addresses"]["invalid"] + [None, 10], ids=repr)
def test_invalid_addresses(text):
    with pytest.raises(networks.AddressError, match="^is not an IP address$"):
        networks.parse_address(text)


@pytest.mark.parametrize("text", TABLE["networks"]["valid"])
def test_valid_networks(text):
    assert str(networks.parse_network(text)) == text


@pytest.mark.parametrize("row", TABLE["networks"]["invalid"], ids=lambda row: row["text"])
def test_invalid_networks(row):
    with pytest.raises(networks.AddressError) as caught:
        networks.parse_network(row["text"])
    assert str(caught.value) == row["reason"]


@pytest.mark.parametrize("row", TABLE["overlaps"], ids=lambda row: "%s~%s" % (row["first"], row["second"]))
def test_overlaps_is_symmetric(row):
    one, other = networks.parse_network(row["first"]), networks.parse_network(row["second"])
    assert networks.overlaps(one, other) is row["overlap"]
    assert networks.overlaps(other, one) is row["overlap"]


@pytest.mark.parametrize("address,network,reserved", [
    ("192.0.2.0", "192.0.2.0/24", True),
    ("192.0.2.255", "192.0.2.0/24", True),
    ("192.0.2.10", "192.0.2.0/24", False),
    ("192.0.2.0", "192.0.2.0/31", False),
])
def test_network_and_broadcast_addresses(address, network, reserved):
    assert networks.is_reserved_in(networks.parse_address(address), networks.parse_network(network)) is reserved
