"""HTTPS: ``leadflow certs dev`` makes a local CA and a server certificate it signs; an app served
with them answers clients that trust the CA and not those that do not; ``leadflow serve`` takes
``--tls-cert``/``--tls-key`` (or ``LEADFLOW_TLS_CERT``/``LEADFLOW_TLS_KEY``) together and refuses
files it cannot use before anything starts."""

from __future__ import annotations

import ipaddress
import os
import ssl
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock, patch

import httpx
import pytest
import requests
from cryptography import x509
from typer.testing import CliRunner

from leadflow.cli import app, certs
from leadflow.cli.common import console, errors
from leadflow.core.config import Settings
from leadflow.core.uow import Database
from leadflow.http.certificates import DevCertificates, make_dev_certificates
from tests.conftest import app_for
from tests.live import serving


def leadflow(*arguments: str, env: dict[str, str] | None = None) -> Any:
    with patch.object(console, "_width", 400), patch.object(errors, "_width", 400):
        return CliRunner().invoke(app, list(arguments), env={"COLUMNS": "400", **(env or {})})


def no_traceback(result: Any) -> str:
    """What the command said, checked to be a message and not a traceback."""
    said = result.stdout + result.stderr
    assert "Traceback" not in said, said
    return " ".join(said.split())  # Rich may wrap a long line; the words are what count


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A SQLite file no command has created yet: the root command reads settings, not the user's database."""
    return f"sqlite:///{tmp_path / 'crm.db'}"


@pytest.fixture
def made(tmp_path: Path) -> DevCertificates:
    return make_dev_certificates(tmp_path / "certs")


@pytest.fixture
def uvicorn_run() -> Iterator[MagicMock]:
    """``uvicorn.run`` replaced, to see whether (and how) ``serve`` would have started a server."""
    with patch("uvicorn.run") as run:
        yield run


# (a) leadflow certs dev


def test_certs_dev_writes_a_ca_a_certificate_and_a_private_key(tmp_path: Path, database_url: str) -> None:
    out = tmp_path / "my certs"
    result = leadflow("--database-url", database_url, "certs", "dev", "--out", str(out), "--host", "crm.test")
    assert result.exit_code == 0, result.output
    ca, certificate, key = out / "ca.pem", out / "server.pem", out / "server-key.pem"
    assert ca.is_file() and certificate.is_file() and key.is_file()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    said = result.stdout
    for path in (ca, certificate, key):
        assert str(path) in said
    assert f"leadflow serve --tls-cert '{certificate}' --tls-key '{key}'" in said  # quoted: the folder has a space
    assert f"REQUESTS_CA_BUNDLE='{ca}'" in said

    served = x509.load_pem_x509_certificate(certificate.read_bytes())
    names = served.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(names.get_values_for_type(x509.DNSName)) == {"localhost", "crm.test"}
    assert set(names.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    }
    authority = x509.load_pem_x509_certificate(ca.read_bytes())
    assert served.issuer == authority.subject
    assert not (tmp_path / "crm.db").exists()  # no database is opened to make certificates


def test_certs_dev_refuses_to_replace_the_files_without_force(tmp_path: Path, database_url: str) -> None:
    out = tmp_path / "certs"
    first = leadflow("--database-url", database_url, "certs", "dev", "--out", str(out))
    assert first.exit_code == 0, first.output
    before = {name: (out / name).read_bytes() for name in ("ca.pem", "server.pem", "server-key.pem")}

    again = leadflow("--database-url", database_url, "certs", "dev", "--out", str(out))
    assert again.exit_code == 1  # refused, as the other refusals of the command line
    said = no_traceback(again)
    assert "already there" in said and "--force" in said and str(out / "ca.pem") in said
    assert {name: (out / name).read_bytes() for name in before} == before

    forced = leadflow("--database-url", database_url, "certs", "dev", "--out", str(out), "--force")
    assert forced.exit_code == 0, forced.output
    for name, content in before.items():
        assert (out / name).read_bytes() != content, name  # a new CA, certificate and key
    assert stat.S_IMODE((out / "server-key.pem").stat().st_mode) == 0o600


def test_certs_dev_also_refuses_when_only_some_of_the_files_are_there(tmp_path: Path, database_url: str) -> None:
    out = tmp_path / "certs"
    out.mkdir()
    (out / "server-key.pem").write_text("someone's key")
    result = leadflow("--database-url", database_url, "certs", "dev", "--out", str(out))
    assert result.exit_code == 1
    assert str(out / "server-key.pem") in no_traceback(result)
    assert (out / "server-key.pem").read_text() == "someone's key" and not (out / "ca.pem").exists()


def test_certs_dev_writes_into_the_data_directory_by_default(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(certs, "data_directory", lambda: tmp_path / "data")
    result = leadflow("--database-url", database_url, "certs", "dev")
    assert result.exit_code == 0, result.output
    assert {path.name for path in (tmp_path / "data" / "certs").iterdir()} == {"ca.pem", "server.pem", "server-key.pem"}


def test_a_key_file_that_was_there_is_made_private_too(tmp_path: Path) -> None:
    key = tmp_path / "server-key.pem"
    key.write_text("old")
    key.chmod(0o644)
    made = make_dev_certificates(tmp_path)
    assert made.key == key and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_bytes().startswith(b"-----BEGIN")


# (b) an app served with them


@pytest.mark.parametrize("migrated_url", ["sqlite"], indirect=True)  # the health check reads no data
def test_a_client_that_trusts_the_ca_is_answered_over_https_and_others_are_refused(
    made: DevCertificates, database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serving(app_for(database, settings), ssl_certfile=str(made.certificate), ssl_keyfile=str(made.key)) as port:
        trusting = ssl.create_default_context(cafile=str(made.ca))
        for host in ("127.0.0.1", "localhost"):
            with httpx.Client(verify=trusting, trust_env=False) as client:
                answer = client.get(f"https://{host}:{port}/api/v1/health")
            assert answer.status_code == 200, answer.text

        with (
            httpx.Client(verify=ssl.create_default_context(), trust_env=False) as stranger,
            pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
        ):
            stranger.get(f"https://127.0.0.1:{port}/api/v1/health")

        # What the printed REQUESTS_CA_BUNDLE line does for clients that use requests (Microsoft's SDK).
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(made.ca))
        monkeypatch.setenv("NO_PROXY", "*")
        assert requests.get(f"https://127.0.0.1:{port}/api/v1/health", timeout=10).status_code == 200

        with pytest.raises(httpx.HTTPError):  # plain HTTP is not spoken there
            httpx.get(f"http://127.0.0.1:{port}/api/v1/health", trust_env=False, timeout=5)


# (c) leadflow serve --tls-cert/--tls-key


@pytest.mark.parametrize(
    ("option", "names"),
    [("--tls-cert", "--tls-key"), ("--tls-key", "--tls-cert")],
)
def test_serve_refuses_one_tls_file_without_the_other(
    made: DevCertificates, database_url: str, uvicorn_run: MagicMock, tmp_path: Path, option: str, names: str
) -> None:
    path = made.certificate if option == "--tls-cert" else made.key
    result = leadflow("--database-url", database_url, "serve", "--no-demo", option, str(path))
    assert result.exit_code == 2, result.output
    said = no_traceback(result)
    assert f"{option} needs {names} too" in said
    assert not uvicorn_run.called and not (tmp_path / "crm.db").exists()  # refused before anything started


def test_serve_refuses_one_tls_setting_without_the_other(
    made: DevCertificates, database_url: str, uvicorn_run: MagicMock
) -> None:
    result = leadflow("--database-url", database_url, "serve", env={"LEADFLOW_TLS_CERT": str(made.certificate)})
    assert result.exit_code == 2, result.output
    assert "needs --tls-key too (or LEADFLOW_TLS_KEY)" in no_traceback(result)
    assert not uvicorn_run.called


def test_serve_refuses_a_tls_file_that_does_not_exist(
    made: DevCertificates, database_url: str, uvicorn_run: MagicMock, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere" / "server.pem"
    result = leadflow(
        "--database-url", database_url, "serve", "--no-demo", "--tls-cert", str(missing), "--tls-key", str(made.key)
    )
    assert result.exit_code == 2, result.output
    assert f"--tls-cert {missing} cannot be read: there is no such file" in no_traceback(result)
    assert not uvicorn_run.called and not (tmp_path / "crm.db").exists()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_serve_refuses_a_tls_file_it_may_not_read(
    made: DevCertificates, database_url: str, uvicorn_run: MagicMock
) -> None:
    made.key.chmod(0o000)
    try:
        result = leadflow(
            "--database-url", database_url, "serve", "--tls-cert", str(made.certificate), "--tls-key", str(made.key)
        )
    finally:
        made.key.chmod(0o600)
    assert result.exit_code == 2, result.output
    assert f"--tls-key {made.key} cannot be read" in no_traceback(result)
    assert not uvicorn_run.called


def test_serve_refuses_a_key_that_is_not_the_certificates(
    made: DevCertificates, database_url: str, uvicorn_run: MagicMock, tmp_path: Path
) -> None:
    other = make_dev_certificates(tmp_path / "other")
    result = leadflow(
        "--database-url", database_url, "serve", "--tls-cert", str(made.certificate), "--tls-key", str(other.key)
    )
    assert result.exit_code == 2, result.output
    assert "cannot serve HTTPS" in no_traceback(result)
    assert not uvicorn_run.called


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_hands_the_tls_files_to_uvicorn_and_says_https(
    made: DevCertificates, database_url: str, uvicorn_run: MagicMock, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    # --workers sets these for the processes it starts: put back as they were after the test.
    monkeypatch.setenv("LEADFLOW_DATABASE_URL", database_url)
    monkeypatch.setenv("LEADFLOW_EMBEDDED_WORKER", "1")
    result = leadflow(
        "--database-url",
        database_url,
        "serve",
        "--no-demo",
        "--port",
        "8443",
        "--workers",
        str(workers),
        "--tls-cert",
        str(made.certificate),
        "--tls-key",
        str(made.key),
    )
    assert result.exit_code == 0, result.output
    assert "leadflow on https://127.0.0.1:8443" in result.stdout and "http://" not in result.stdout
    assert uvicorn_run.call_count == 1
    options = uvicorn_run.call_args.kwargs
    assert options["ssl_certfile"] == str(made.certificate) and options["ssl_keyfile"] == str(made.key)
    assert options.get("workers", 1) == workers


def test_serve_reads_the_tls_files_from_the_settings(
    made: DevCertificates, database_url: str, uvicorn_run: MagicMock
) -> None:
    result = leadflow(
        "--database-url",
        database_url,
        "serve",
        "--no-demo",
        env={"LEADFLOW_TLS_CERT": str(made.certificate), "LEADFLOW_TLS_KEY": str(made.key)},
    )
    assert result.exit_code == 0, result.output
    assert "https://" in result.stdout
    assert uvicorn_run.call_args.kwargs["ssl_certfile"] == str(made.certificate)


def test_serve_without_tls_files_speaks_plain_http(database_url: str, uvicorn_run: MagicMock) -> None:
    result = leadflow("--database-url", database_url, "serve", "--no-demo")
    assert result.exit_code == 0, result.output
    assert "leadflow on http://" in result.stdout
    assert uvicorn_run.call_args.kwargs["ssl_certfile"] is None
