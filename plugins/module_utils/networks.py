# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Strict parsing of IP addresses and CIDR networks, with netaddr."""

try:
    import netaddr
    HAS_NETADDR = True
except ImportError:  # pragma: no cover - reported by the caller
    netaddr = None
    HAS_NETADDR = False


class AddressError(ValueError):
    """Raised when a string is not an address or a network."""


def _require_netaddr():
    if not HAS_NETADDR:
        raise AddressError("the Python library netaddr is required on the controller")


def parse_address(value):
    """Return ``value`` as a netaddr.IPAddress; dotted quads only, no prefix."""
    _require_netaddr()
    if not isinstance(value, str) or "/" in value:
        raise AddressError("is not an IP address")
    try:
        return netaddr.IPAddress(value, flags=netaddr.INET_PTON)
    except (netaddr.AddrFormatError, ValueError, TypeError) as exc:
        raise AddressError("is not an IP address") from exc


def parse_network(value):
    """Return ``value`` as a netaddr.IPNetwork; it needs a prefix and no host bits."""
    _require_netaddr()
    if not isinstance(value, str) or value.count("/") != 1:
        raise AddressError("is not a CIDR network (address/prefix)")
    address, prefix = value.split("/")
    if not prefix.isdigit():
        raise AddressError("is not a CIDR network (address/prefix)")
    try:
        parse_address(address)
        network = netaddr.IPNetwork(value)
    except (AddressError, netaddr.AddrFormatError, ValueError, TypeError) as exc:
        raise AddressError("is not a CIDR network (address/prefix)") from exc
    if network.ip != network.network:
        raise AddressError("has host bits set (the network is %s)" % network.cidr)
    return network


def overlaps(first, second):
    """Tell whether two netaddr.IPNetwork objects share any address."""
    if first.version != second.version:
        return False
    return first.first <= second.last and second.first <= first.last


def is_reserved_in(address, network):
    """Tell whether ``address`` is the network or broadcast address of an IPv4 ``network``."""
    if network.version != 4 or network.prefixlen >= 31:
        return False
    return address in (network.network, network.broadcast)
