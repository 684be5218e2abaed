"""A local certificate authority and a server certificate it signs, for testing HTTPS clients.

Some clients refuse plain HTTP (Microsoft's Dataverse SDK among them), so trying them against a
leadflow on this machine needs ``leadflow serve`` over HTTPS with a certificate they trust. This
makes one with ``trustme``: a throwaway CA whose certificate the client is told to trust (for
Python clients that use requests, ``REQUESTS_CA_BUNDLE``), and a certificate for local names that
it signs. Never for production: anyone who can read these files can pose as the server, and a real
installation uses a certificate from a real authority (or its own organisation's).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import trustme

LOCAL_HOSTNAMES = ("localhost", "127.0.0.1", "::1")
CA_FILE = "ca.pem"
CERTIFICATE_FILE = "server.pem"
KEY_FILE = "server-key.pem"


@dataclass(frozen=True)
class DevCertificates:
    """The files of a local CA and a server certificate: what to trust, and what to serve with."""

    ca: Path  # the CA certificate, for clients to trust
    certificate: Path  # the server's certificate chain, for ``leadflow serve --tls-cert``
    key: Path  # the server's private key, for ``leadflow serve --tls-key``


def dev_certificate_paths(directory: Path) -> DevCertificates:
    """Where ``make_dev_certificates(directory)`` writes its files (whether or not they exist yet)."""
    return DevCertificates(ca=directory / CA_FILE, certificate=directory / CERTIFICATE_FILE, key=directory / KEY_FILE)


def make_dev_certificates(directory: Path, *, hostnames: Sequence[str] = LOCAL_HOSTNAMES) -> DevCertificates:
    """Write a new local CA and a server certificate for ``hostnames`` into ``directory``, replacing any there."""
    if not hostnames:
        raise ValueError("a server certificate needs at least one host name or address")
    directory.mkdir(parents=True, exist_ok=True)
    paths = dev_certificate_paths(directory)
    authority = trustme.CA(organization_name="leadflow local testing CA")
    server = authority.issue_cert(*dict.fromkeys(hostnames))
    _write_private(paths.key, server.private_key_pem.bytes())
    paths.certificate.write_bytes(b"".join(blob.bytes() for blob in server.cert_chain_pems))
    paths.ca.write_bytes(authority.cert_pem.bytes())
    return paths


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a file only its owner may read (mode 0o600), also when the file was there before."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        if hasattr(os, "fchmod"):  # an existing file keeps its mode on open; not on Windows
            os.fchmod(file.fileno(), 0o600)
        file.write(data)
