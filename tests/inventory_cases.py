"""The inventories of the validation tests, and the throwaway files some of them name.

``tests/integration/bad_inventories/<case>`` holds inventories with mistakes
(``hosts.yml``, ``group_vars``, ``host_vars``) and ``expected.txt``, the
exact messages in order; ``tests/integration/good_inventories/<case>``
inventories that pass. Both the integration test (through ansible-playbook)
and the unit test of the action plugin run every case.

A case that needs files on the controller, such as certificates and keys,
writes ``@FILES@`` where their directory goes, in its variables and in
``expected.txt``. ``prepare`` copies such a case into a temporary directory
with ``@FILES@`` replaced by a directory that ``write_tls_files`` filled:
certificates and private keys made with ``cryptography`` when the test runs,
never committed, valid for one day.
"""
import datetime
import pathlib
import shutil

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = pathlib.Path(__file__).resolve().parents[1]
BAD = ROOT / "tests" / "integration" / "bad_inventories"
GOOD = ROOT / "tests" / "integration" / "good_inventories"
BAD_CASES = sorted(path.name for path in BAD.iterdir() if path.is_dir())
GOOD_CASES = sorted(path.name for path in GOOD.iterdir() if path.is_dir())
PLACEHOLDER = "@FILES@"

# The files write_tls_files writes: what each one is.
TLS_FILES = {
    "ca.pem": "a CA certificate (CN=Throwaway test CA)",
    "leaf.pem": "a server certificate for ingress.example.test and *.ingress.example.test, issued by ca.pem",
    "leaf.key": "the private key of leaf.pem",
    "other.key": "a private key that belongs to no certificate here",
    "other-ca.pem": "another CA certificate (CN=Another throwaway test CA), which issued nothing here",
}


def name(common_name):
    """An X.509 name with only a common name."""
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_key():
    """A new private key (ECDSA P-256: quick to make)."""
    return ec.generate_private_key(ec.SECP256R1())


def make_certificate(subject, key, issuer=None, issuer_key=None, ca=False, dns_names=()):
    """A certificate for ``subject`` (a common name) and ``key``, signed by ``issuer_key`` (itself when None)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(name(subject))
               .issuer_name(name(issuer or subject))
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if dns_names:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(item) for item in dns_names]),
                                        critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


def pem(item, passphrase=None):
    """The PEM bytes of a certificate or a private key (PKCS#8, encrypted with ``passphrase`` when given)."""
    if isinstance(item, x509.Certificate):
        return item.public_bytes(serialization.Encoding.PEM)
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    return item.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def write_tls_files(directory):
    """Write the files of TLS_FILES into ``directory``; return it."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, leaf_key, other_ca_key = make_key(), make_key(), make_key()
    ca = make_certificate("Throwaway test CA", ca_key, ca=True)
    leaf = make_certificate("ingress.example.test", leaf_key, "Throwaway test CA", ca_key,
                            dns_names=("ingress.example.test", "*.ingress.example.test"))
    other_ca = make_certificate("Another throwaway test CA", other_ca_key, ca=True)
    contents = {
        "ca.pem": pem(ca),
        "leaf.pem": pem(leaf),
        "leaf.key": pem(leaf_key),
        "other.key": pem(make_key()),
        "other-ca.pem": pem(other_ca),
    }
    assert sorted(contents) == sorted(TLS_FILES)
    for file_name, content in contents.items():
        (directory / file_name).write_bytes(content)
    return directory


def _uses_placeholder(case_dir):
    return any(PLACEHOLDER in path.read_text() for path in case_dir.rglob("*") if path.is_file())


def prepare(case_dir, work_dir):
    """The inventory (hosts.yml) of a case and its expected messages, with ``@FILES@`` in place.

    A case without the placeholder is used where it is. One with it is
    copied to ``work_dir``/case, each ``@FILES@`` replaced by
    ``work_dir``/files, where write_tls_files puts its files.
    Returns (path of hosts.yml, expected messages: [] when the case has no
    expected.txt).
    """
    case_dir = pathlib.Path(case_dir)
    if _uses_placeholder(case_dir):
        work_dir = pathlib.Path(work_dir)
        files = write_tls_files(work_dir / "files")
        copy = work_dir / "case"
        shutil.copytree(case_dir, copy, symlinks=True)
        for path in copy.rglob("*"):
            if path.is_file() and not path.is_symlink():
                text = path.read_text()
                if PLACEHOLDER in text:
                    path.write_text(text.replace(PLACEHOLDER, str(files)))
        case_dir = copy
    expected = case_dir / "expected.txt"
    return case_dir / "hosts.yml", expected.read_text().splitlines() if expected.exists() else []
