"""Certificates for testing HTTPS: ``leadflow certs dev`` makes a local certificate authority and a
server certificate it signs, for ``leadflow serve --tls-cert/--tls-key`` and the clients that refuse
plain HTTP (Microsoft's Dataverse SDK). Never for production."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from leadflow.cli.common import console, fail
from leadflow.core.config import data_directory
from leadflow.core.errors import Conflict

certs_app = typer.Typer(
    help="Certificates for testing HTTPS on this machine (never for production).", no_args_is_help=True
)


@certs_app.command("dev")
def dev(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="DIR",
            file_okay=False,
            help="Folder to write ca.pem, server.pem and server-key.pem into (created if missing); "
            "by default a certs folder in leadflow's data directory.",
        ),
    ] = None,
    hosts: Annotated[
        list[str] | None,
        typer.Option(
            "--host",
            metavar="NAME",
            help="Another host name or IP address the server certificate is for (repeatable); "
            "localhost, 127.0.0.1 and ::1 always are.",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the files if they are there already.")] = False,
) -> None:
    """Make a local certificate authority and a server certificate it signs, for testing HTTPS clients."""
    from leadflow.http.certificates import LOCAL_HOSTNAMES, dev_certificate_paths, make_dev_certificates

    directory = (out if out is not None else data_directory() / "certs").expanduser().resolve()
    planned = dev_certificate_paths(directory)
    present = [path for path in (planned.ca, planned.certificate, planned.key) if path.exists()]
    if present and not force:
        are, them = ("is", "it") if len(present) == 1 else ("are", "them")
        fail(
            Conflict(
                f"{', '.join(str(path) for path in present)} {are} already there; give --force to replace {them} "
                "(clients that trust the old ca.pem will not trust the new one), or --out for another folder.",
                code="certificates_exist",
            )
        )
    made = make_dev_certificates(directory, hostnames=[*LOCAL_HOSTNAMES, *(hosts or [])])
    console.print(f"CA certificate (for clients to trust): {made.ca}", soft_wrap=True, highlight=False, markup=False)
    console.print(f"Server certificate chain: {made.certificate}", soft_wrap=True, highlight=False, markup=False)
    console.print(f"Server private key (keep it private): {made.key}", soft_wrap=True, highlight=False, markup=False)
    console.print("Serve HTTPS with them:", highlight=False)
    console.print(
        f"  leadflow serve --tls-cert {shlex.quote(str(made.certificate))} --tls-key {shlex.quote(str(made.key))}",
        soft_wrap=True,
        highlight=False,
        markup=False,
    )
    console.print(
        "Make Python clients that use requests (e.g. Microsoft's Dataverse SDK) trust the CA:",
        soft_wrap=True,
        highlight=False,
    )
    console.print(f"  REQUESTS_CA_BUNDLE={shlex.quote(str(made.ca))}", soft_wrap=True, highlight=False, markup=False)
    console.print("[dim]For testing on this machine only, never for production.[/]", soft_wrap=True, highlight=False)


def register(app: typer.Typer) -> None:
    """Add the certificates' command group to the root command."""
    app.add_typer(certs_app, name="certs")
