"""module_utils.validation.controller_files: certificate and key files on the controller, read once."""
import pytest

from ansible_collections.normaldance.platform.plugins.module_utils.validation.controller_files import (
    ControllerFiles, FileProblem, chain_problem, read_plain, same_key)
from inventory_cases import make_certificate, make_key, pem, write_tls_files


@pytest.fixture(name="pki")
def fixture_pki(tmp_path):
    return write_tls_files(tmp_path / "files")


def test_read_plain_says_why_without_content(tmp_path):
    with pytest.raises(FileProblem, match=r"^cannot be read on the controller \(Is a directory\)$"):
        read_plain(str(tmp_path))


def test_a_file_is_read_and_parsed_once_and_so_is_a_problem(pki):
    calls = []

    def reader(path):
        calls.append(path)
        if path.endswith("locked.pem"):
            raise FileProblem("cannot be read on the controller (Permission denied)")
        return (pki / "leaf.pem").read_bytes()

    (pki / "locked.pem").write_text("")
    files = ControllerFiles(reader)
    first = files.certificates(str(pki / "leaf.pem"))
    assert files.certificates(str(pki / "leaf.pem")) is first
    for _attempt in range(2):
        with pytest.raises(FileProblem, match="Permission denied"):
            files.certificates(str(pki / "locked.pem"))
    assert calls == [str(pki / "leaf.pem"), str(pki / "locked.pem")]


@pytest.mark.parametrize("path,reason", [
    ("relative/leaf.pem", "is not an absolute path; the file is read on the controller"),
    ("/nonexistent/leaf.pem", "does not exist on the controller"),
    ("/", "is not a file on the controller"),
])
def test_paths_are_checked_before_reading(path, reason):
    files = ControllerFiles(lambda _path: pytest.fail("read without need"))
    with pytest.raises(FileProblem) as raised:
        files.content(path)
    assert str(raised.value) == reason


def test_certificates_keep_the_order_of_the_file(pki, tmp_path):
    chain = tmp_path / "chain.pem"
    chain.write_bytes((pki / "leaf.pem").read_bytes() + (pki / "ca.pem").read_bytes())
    found = ControllerFiles().certificates(str(chain))
    assert [item.subject.rfc4514_string() for item in found] == ["CN=ingress.example.test", "CN=Throwaway test CA"]


def test_same_key(pki):
    files = ControllerFiles()
    leaf = files.certificates(str(pki / "leaf.pem"))[0]
    assert same_key(leaf, files.private_key(str(pki / "leaf.key")))
    assert not same_key(leaf, files.private_key(str(pki / "other.key")))


def test_chain_problem():
    root_key, leaf_key = make_key(), make_key()
    root = make_certificate("Unit root CA", root_key, ca=True)
    leaf = make_certificate("ingress.example.test", leaf_key, "Unit root CA", root_key)
    assert chain_problem([leaf], [root]) is None
    # A self-signed certificate given as its own CA.
    assert chain_problem([root], [root]) is None
    assert chain_problem([leaf], [make_certificate("Unit root CA", make_key(), ca=True)]) == (
        "the leaf names the CA 'CN=Unit root CA' as its issuer, but its signature does not verify with the CA's "
        "public key")


def test_two_certificates_that_sign_each_other_end_the_walk():
    first_key, second_key, leaf_key = make_key(), make_key(), make_key()
    first = make_certificate("Unit first CA", first_key, "Unit second CA", second_key, ca=True)
    second = make_certificate("Unit second CA", second_key, "Unit first CA", first_key, ca=True)
    leaf = make_certificate("ingress.example.test", leaf_key, "Unit first CA", first_key)
    other = make_certificate("Unit other CA", make_key(), ca=True)
    assert chain_problem([leaf, first, second], [other]).endswith("but the CA's subject is 'CN=Unit other CA'")


def test_an_encrypted_key_is_named_as_such(tmp_path):
    (tmp_path / "encrypted.key").write_bytes(pem(make_key(), b"unit-test-passphrase"))
    with pytest.raises(FileProblem, match="^is an encrypted private key"):
        ControllerFiles().private_key(str(tmp_path / "encrypted.key"))
