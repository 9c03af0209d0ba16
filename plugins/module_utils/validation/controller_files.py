# -*- coding: utf-8 -*-
# Copyright: NORMALDANCE platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files on the controller that role variables name: read once, PEM certificates and keys parsed.

A role reads such a file with the lookup ``ansible.builtin.file``, which
decrypts files encrypted with ansible-vault; the validator reads it the same
way through the ``read`` function it is given (the action plugin passes one
that uses Ansible's loader). Each file is read and parsed once per
validation, however many hosts name it. Problems are reported as short
reasons that never contain the content of a file.
"""

import os

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - reported by the caller
    x509 = None
    serialization = None
    InvalidSignature = UnsupportedAlgorithm = Exception
    HAS_CRYPTOGRAPHY = False

# Certificate.verify_directly_issued_by came with cryptography 40.
CAN_VERIFY = HAS_CRYPTOGRAPHY and hasattr(x509.Certificate, "verify_directly_issued_by")

# At most this many certificates are followed from the leaf to the CA.
_MAXIMUM_CHAIN = 8


class FileProblem(Exception):
    """A file that cannot be used; the text says why, without its content."""


def read_plain(path):
    """Read ``path`` as bytes (the reader used without Ansible's loader, as in unit tests)."""
    try:
        with open(path, "rb") as stream:
            return stream.read()
    except OSError as exc:
        raise FileProblem("cannot be read on the controller (%s)" % (exc.strerror or exc.__class__.__name__)) from exc


def _spki(key):
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _name(name):
    return name.rfc4514_string() or "(an empty name)"


def _issued(certificate, issuer):
    """Tell whether ``issuer`` signed ``certificate``: its subject is the issuer name and the signature verifies."""
    if certificate.issuer != issuer.subject:
        return False
    try:
        certificate.verify_directly_issued_by(issuer)
        return True
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False


class ControllerFiles:
    """The files a validation run reads on the controller, each read and parsed once.

    ``read`` takes an absolute path and returns its content as bytes or
    raises FileProblem.
    """

    def __init__(self, read=read_plain):
        self._read = read
        self._cache = {}

    def _cached(self, kind, path, compute):
        key = (kind, path)
        if key not in self._cache:
            try:
                self._cache[key] = (compute(path), None)
            except FileProblem as exc:
                self._cache[key] = (None, exc)
        found, problem = self._cache[key]
        if problem is not None:
            raise problem
        return found

    def content(self, path):
        """The bytes of the file at the absolute ``path``, or FileProblem (not absolute, missing, not a file, unreadable)."""
        return self._cached("content", path, self._content)

    def _content(self, path):
        if not isinstance(path, str) or not os.path.isabs(path):
            raise FileProblem("is not an absolute path; the file is read on the controller")
        if not os.path.exists(path):
            raise FileProblem("does not exist on the controller")
        if not os.path.isfile(path):
            raise FileProblem("is not a file on the controller")
        return self._read(path)

    def certificates(self, path):
        """The X.509 certificates of the PEM file ``path``, the first one (the leaf) first."""
        return self._cached("certificates", path, self._certificates)

    def _certificates(self, path):
        data = self.content(path)
        if not HAS_CRYPTOGRAPHY:
            raise FileProblem("cannot be checked: the Python library cryptography is required on the controller")
        try:
            return x509.load_pem_x509_certificates(data)
        except ValueError as exc:
            raise FileProblem("is not a PEM certificate (no -----BEGIN CERTIFICATE----- block that reads as "
                              "X.509)") from exc

    def private_key(self, path):
        """The private key of the PEM file ``path``."""
        return self._cached("private key", path, self._private_key)

    def _private_key(self, path):
        data = self.content(path)
        if not HAS_CRYPTOGRAPHY:
            raise FileProblem("cannot be checked: the Python library cryptography is required on the controller")
        try:
            return serialization.load_pem_private_key(data, password=None)
        except TypeError as exc:
            raise FileProblem("is an encrypted private key; Traefik needs the key without a passphrase (protect the "
                              "file with ansible-vault instead, which the role decrypts)") from exc
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise FileProblem("is not a PEM private key (no -----BEGIN ... PRIVATE KEY----- block that reads as "
                              "a key)") from exc


def same_key(certificate, private_key):
    """Tell whether ``private_key`` is the key of ``certificate`` (their public keys are equal)."""
    return _spki(certificate.public_key()) == _spki(private_key.public_key())


def chain_problem(chain, authorities):
    """Why the leaf of ``chain`` is not issued by one of ``authorities``, or None when it is.

    ``chain`` is the leaf followed by the intermediates the certificate file
    carries; ``authorities`` the certificates of the CA file. The leaf is
    issued by a CA when the CA signed it, or signed an intermediate of the
    chain that in turn signed it: each issuer name equals the signer's
    subject and each signature verifies with the signer's public key.
    """
    if not CAN_VERIFY:
        return "the signatures cannot be checked: the Python library cryptography 40 or later is required on the controller"
    current = chain[0]
    for _step in range(_MAXIMUM_CHAIN):
        if current in authorities or any(_issued(current, authority) for authority in authorities):
            return None
        following = [item for item in chain[1:] if item != current and _issued(current, item)]
        if not following:
            break
        current = following[0]
    what = "the leaf" if current is chain[0] else "the last certificate of its chain (%r)" % _name(current.subject)
    subjects = [_name(authority.subject) for authority in authorities]
    if any(authority.subject == current.issuer for authority in authorities):
        return "%s names the CA %r as its issuer, but its signature does not verify with the CA's public key" % (
            what, _name(current.issuer))
    if len(subjects) == 1:
        return "%s names the issuer %r, but the CA's subject is %r" % (what, _name(current.issuer), subjects[0])
    return "%s names the issuer %r, but the subjects of the CA file are %s" % (
        what, _name(current.issuer), ", ".join(repr(subject) for subject in subjects))
