"""module_utils.validation.role_rules: the roles' preflight rules, checked on the controller."""
import pathlib

import pytest
import yaml
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from ansible_collections.normaldance.platform.plugins.module_utils.validation.argument_specs import RoleSpecs, check_role_variables
from ansible_collections.normaldance.platform.plugins.module_utils.validation.controller_files import ControllerFiles
from ansible_collections.normaldance.platform.plugins.module_utils.validation.model import InventoryView
from ansible_collections.normaldance.platform.plugins.module_utils.validation.role_rules import (
    RULES, check_role_rules, is_dns_name, is_label_value, is_qualified_name)
from inventory_cases import make_certificate, make_key, pem, write_tls_files

ROOT = pathlib.Path(__file__).resolve().parents[5]
TABLE = yaml.safe_load((pathlib.Path(__file__).parents[1] / "fixtures" / "validation" / "role_rules.yml").read_text())
SPECS = RoleSpecs(dict((path.parent.parent.name, yaml.safe_load(path.read_text())["argument_specs"])
                       for path in sorted(ROOT.glob("roles/*/meta/argument_specs.yml"))))
GROUPS = {"all": ["cp1", "w1"], "ungrouped": [], "k8s_cluster": ["cp1", "w1"], "control_plane": ["cp1"], "etcd": ["cp1"],
          "workers": ["w1"], "monitoring": []}


def run(values_per_host):
    view = InventoryView(GROUPS, values_per_host)
    problems, values = check_role_variables(view, SPECS)
    assert problems == []
    return check_role_rules(view, values, SPECS)


@pytest.mark.parametrize("row", TABLE, ids=lambda row: ",".join(sorted(row["set"])))
def test_rules(row):
    assert run({"cp1": dict(row["set"]), "w1": dict(row["set"])}) == row["problems"]


def test_a_value_on_one_host_names_that_host_group():
    assert run({"w1": {"cluster_nodes_labels": {"a b": "c"}}}) == [
        "cluster_nodes_labels (group workers): key 'a b' is not a valid label key; a key is a name of at most 63 letters, "
        "digits, '-', '_' and '.' that starts and ends with a letter or digit, optionally after a DNS subdomain prefix "
        "and '/', such as normaldance.io/pool"]


@pytest.mark.parametrize("name", sorted(set(name for name, _kind, _rule in RULES)))
def test_every_rule_is_about_an_option_of_its_role(name):
    specs = SPECS.specs_of(name)
    assert specs, "%s is not in any role's argument spec" % name
    kinds = {"str": str, "path": str, "int": int, "bool": bool, "dict": dict, "list": list}
    wanted = [kind for rule_name, kind, _rule in RULES if rule_name == name]
    assert all(kinds[spec["type"]] in wanted for spec in specs)


@pytest.mark.parametrize("text,valid", [
    ("app", True), ("normaldance.io/pool", True), ("kubernetes.io/hostname", True), ("a" * 63, True),
    ("a" * 64, False), ("x/" + "a" * 63, True), ("", False), ("/app", False), ("a/b/c", False), ("UP.example/x", False),
    ("-a", False), ("a_", False), ("a b", False), (5, False),
])
def test_qualified_names(text, valid):
    assert is_qualified_name(text) is valid


@pytest.mark.parametrize("text,valid", [
    ("", True), ("general", True), ("a.b_c-d", True), ("a" * 63, True), ("a" * 64, False), ("-a", False),
    ("a b", False), ("x/y", False), (True, False),
])
def test_label_values(text, valid):
    assert is_label_value(text) is valid


def test_the_ingress_address_is_no_node_address():
    base = {"platform_node_network": "192.0.2.0/24", "platform_api_endpoint_address": "192.0.2.10",
            "platform_ingress_address": "192.0.2.22"}
    rule = "the ingress address (VIP) must be an unused address in the node network"
    assert run({"cp1": dict(base, ansible_host="192.0.2.11"), "w1": dict(base, ansible_host="192.0.2.21")}) == []
    assert run({"cp1": dict(base, ansible_host="192.0.2.11"),
                "w1": dict(base, ansible_host="198.51.100.21", platform_node_ip="192.0.2.22")}) == [
        "platform_ingress_address (group all): '192.0.2.22' is the address of host w1 (platform_node_ip); " + rule]
    # ansible_host counts too when the node address is another one.
    assert run({"cp1": dict(base, ansible_host="192.0.2.22", platform_node_ip="192.0.2.11"),
                "w1": dict(base, ansible_host="192.0.2.21")}) == [
        "platform_ingress_address (group all): '192.0.2.22' is the address of host cp1 (ansible_host); " + rule]
    # A name in ansible_host is no address.
    assert run({"cp1": dict(base, ansible_host="cp1.example.test"), "w1": dict(base, ansible_host="192.0.2.21")}) == []


def test_the_ingress_address_set_on_some_hosts_names_them():
    base = {"platform_node_network": "192.0.2.0/24", "platform_api_endpoint_address": "192.0.2.10"}
    assert run({"cp1": dict(base), "w1": dict(base, platform_ingress_address="192.0.2.10")}) == [
        "platform_ingress_address (group workers): '192.0.2.10' is also platform_api_endpoint_address, the API endpoint "
        "(VIP); the ingress address (VIP) must be an unused address in the node network"]


@pytest.mark.parametrize("text,valid", [
    ("example.test", True), ("a", True), ("a-b.c1.test", True), ("a" * 63 + ".test", True), ("a" * 64 + ".test", False),
    (".".join(["a" * 63] * 4), False), ("", False), ("A.test", False), ("a_b.test", False), ("*.test", False),
    ("a.test.", False), ("-a.test", False), ("a-.test", False), (None, False),
])
def test_dns_names(text, valid):
    assert is_dns_name(text) is valid


# The site's certificate: files made by the test (tests/inventory_cases.py).
PAIR = ("platform_ingress_tls_certificate and platform_ingress_tls_key go together: set both for the site's certificate, "
        "or neither for one the collection issues")


@pytest.fixture(name="pki")
def fixture_pki(tmp_path):
    """Throwaway files: the CA ca.pem issued leaf.pem (key leaf.key); other.key and other-ca.pem are strangers."""
    return write_tls_files(tmp_path / "files")


def tls(certificate="", key="", ca=""):
    values = {"platform_ingress_tls_certificate": str(certificate), "platform_ingress_tls_key": str(key),
              "platform_ingress_tls_ca": str(ca)}
    return run({"cp1": dict(values), "w1": dict(values)})


def test_the_site_certificate_key_and_ca_pass(pki):
    assert tls(pki / "leaf.pem", pki / "leaf.key", pki / "ca.pem") == []
    assert tls(pki / "leaf.pem", pki / "leaf.key") == []
    assert tls() == []


def test_certificate_and_key_go_together(pki):
    assert tls(certificate=pki / "leaf.pem") == [
        "platform_ingress_tls_certificate (group all): '%s' is set but platform_ingress_tls_key is empty; %s"
        % (pki / "leaf.pem", PAIR)]
    assert tls(key=pki / "leaf.key") == [
        "platform_ingress_tls_key (group all): '%s' is set but platform_ingress_tls_certificate is empty; %s"
        % (pki / "leaf.key", PAIR)]
    assert tls(ca=pki / "ca.pem") == [
        "platform_ingress_tls_ca (group all): '%s' is set but platform_ingress_tls_certificate is empty; the CA is used "
        "only with the site's certificate (platform_ingress_tls_certificate and platform_ingress_tls_key)" % (pki / "ca.pem")]


def test_each_file_is_an_absolute_path_to_a_readable_file(pki):
    assert tls("leaf.pem", pki / "leaf.key", pki / "missing-ca.pem") == [
        "platform_ingress_tls_ca (group all): '%s' does not exist on the controller" % (pki / "missing-ca.pem"),
        "platform_ingress_tls_certificate (group all): 'leaf.pem' is not an absolute path; the file is read on the "
        "controller"]
    assert tls(pki / "leaf.pem", pki) == [
        "platform_ingress_tls_key (group all): '%s' is not a file on the controller" % pki]


def test_the_files_are_pem(pki):
    (pki / "notes.txt").write_text("not a certificate\n")
    assert tls(pki / "leaf.key", pki / "leaf.pem", pki / "notes.txt") == [
        "platform_ingress_tls_ca (group all): '%s' is not a PEM certificate (no -----BEGIN CERTIFICATE----- block that "
        "reads as X.509)" % (pki / "notes.txt"),
        "platform_ingress_tls_certificate (group all): '%s' is not a PEM certificate (no -----BEGIN CERTIFICATE----- "
        "block that reads as X.509)" % (pki / "leaf.key"),
        "platform_ingress_tls_key (group all): '%s' is not a PEM private key (no -----BEGIN ... PRIVATE KEY----- block "
        "that reads as a key)" % (pki / "leaf.pem")]


def test_an_encrypted_key_is_refused(pki, tmp_path):
    key = load_pem_private_key((pki / "leaf.key").read_bytes(), None)
    (tmp_path / "encrypted.key").write_bytes(pem(key, b"unit-test-passphrase"))
    assert tls(pki / "leaf.pem", tmp_path / "encrypted.key") == [
        "platform_ingress_tls_key (group all): '%s' is an encrypted private key; Traefik needs the key without a "
        "passphrase (protect the file with ansible-vault instead, which the role decrypts)" % (tmp_path / "encrypted.key")]


def test_the_key_belongs_to_the_certificate(pki):
    problems = tls(pki / "leaf.pem", pki / "other.key", pki / "ca.pem")
    assert problems == [
        "platform_ingress_tls_key (group all): '%s' is not the private key of platform_ingress_tls_certificate '%s': "
        "their public keys differ" % (pki / "other.key", pki / "leaf.pem")]
    # The files are named, their content never shown.
    for name in ("other.key", "leaf.pem"):
        body = "".join((pki / name).read_text().splitlines()[1:-1])
        assert not any(body[:32] in problem or "-----BEGIN" in problem for problem in problems)


def test_the_certificate_is_issued_by_the_ca(pki):
    assert tls(pki / "leaf.pem", pki / "leaf.key", pki / "other-ca.pem") == [
        "platform_ingress_tls_certificate (group all): '%s' is not issued by platform_ingress_tls_ca '%s': the leaf names "
        "the issuer 'CN=Throwaway test CA', but the CA's subject is 'CN=Another throwaway test CA'"
        % (pki / "leaf.pem", pki / "other-ca.pem")]


def test_a_ca_of_the_same_name_with_another_key_did_not_issue_it(pki, tmp_path):
    impostor = make_certificate("Throwaway test CA", make_key(), ca=True)
    (tmp_path / "impostor.pem").write_bytes(pem(impostor))
    assert tls(pki / "leaf.pem", pki / "leaf.key", tmp_path / "impostor.pem") == [
        "platform_ingress_tls_certificate (group all): '%s' is not issued by platform_ingress_tls_ca '%s': the leaf names "
        "the CA 'CN=Throwaway test CA' as its issuer, but its signature does not verify with the CA's public key"
        % (pki / "leaf.pem", tmp_path / "impostor.pem")]


def test_the_certificate_may_reach_the_ca_through_the_intermediates_it_carries(tmp_path):
    root_key, intermediate_key, leaf_key = make_key(), make_key(), make_key()
    root = make_certificate("Unit root CA", root_key, ca=True)
    intermediate = make_certificate("Unit intermediate CA", intermediate_key, "Unit root CA", root_key, ca=True)
    leaf = make_certificate("ingress.example.test", leaf_key, "Unit intermediate CA", intermediate_key)
    (tmp_path / "root.pem").write_bytes(pem(root))
    (tmp_path / "bundle.pem").write_bytes(pem(make_certificate("Unit other CA", make_key(), ca=True)) + pem(root))
    (tmp_path / "chain.pem").write_bytes(pem(leaf) + pem(intermediate))
    (tmp_path / "leaf-only.pem").write_bytes(pem(leaf))
    (tmp_path / "leaf.key").write_bytes(pem(leaf_key))
    assert tls(tmp_path / "chain.pem", tmp_path / "leaf.key", tmp_path / "root.pem") == []
    assert tls(tmp_path / "chain.pem", tmp_path / "leaf.key", tmp_path / "bundle.pem") == []
    # Without the intermediate the chain stops at the leaf.
    assert tls(tmp_path / "leaf-only.pem", tmp_path / "leaf.key", tmp_path / "bundle.pem") == [
        "platform_ingress_tls_certificate (group all): '%s' is not issued by platform_ingress_tls_ca '%s': the leaf names "
        "the issuer 'CN=Unit intermediate CA', but the subjects of the CA file are 'CN=Unit other CA', 'CN=Unit root CA'"
        % (tmp_path / "leaf-only.pem", tmp_path / "bundle.pem")]
    (tmp_path / "other-root.pem").write_bytes(pem(make_certificate("Unit other CA", make_key(), ca=True)))
    assert tls(tmp_path / "chain.pem", tmp_path / "leaf.key", tmp_path / "other-root.pem") == [
        "platform_ingress_tls_certificate (group all): '%s' is not issued by platform_ingress_tls_ca '%s': the last "
        "certificate of its chain ('CN=Unit intermediate CA') names the issuer 'CN=Unit root CA', but the CA's subject "
        "is 'CN=Unit other CA'" % (tmp_path / "chain.pem", tmp_path / "other-root.pem")]


def test_each_file_is_read_once_for_all_hosts(pki):
    read = []

    def reader(path):
        read.append(path)
        return pathlib.Path(path).read_bytes()

    values = {"platform_ingress_tls_certificate": str(pki / "leaf.pem"), "platform_ingress_tls_key": str(pki / "leaf.key"),
              "platform_ingress_tls_ca": str(pki / "ca.pem")}
    view = InventoryView(GROUPS, {"cp1": dict(values), "w1": dict(values)})
    problems, checked = check_role_variables(view, SPECS)
    assert problems == []
    assert check_role_rules(view, checked, SPECS, ControllerFiles(reader)) == []
    assert sorted(read) == sorted(str(pki / name) for name in ("ca.pem", "leaf.key", "leaf.pem"))
