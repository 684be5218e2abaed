"""The command line fails in one line that says what to do, with a documented exit code; ``--debug``
shows the traceback; ``--version`` and ``db where`` answer without opening the database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from unittest.mock import patch

import pytest
from sqlalchemy.exc import ArgumentError
from typer.testing import CliRunner

from leadflow import __version__
from leadflow.cli import admin, app
from leadflow.cli.common import console

UNREACHABLE_POSTGRES = "postgresql+psycopg://postgres:s3cret-pw@127.0.0.1:1/leadflow"


def leadflow(*arguments: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    with patch.object(console, "_width", 400):
        return CliRunner().invoke(app, list(arguments), env={"COLUMNS": "400", **(env or {})})


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("nonsense", "is not one leadflow can use"),
        ("mysql://someone@somewhere/crm", "is not one leadflow can use"),
        (UNREACHABLE_POSTGRES, "Check that the server runs"),
        ("sqlite:////no/such/folder/leadflow.db", "Check that its folder exists"),
    ],
)
def test_a_database_that_cannot_be_opened_is_one_line_and_exit_code_4(url: str, says: str) -> None:
    result = leadflow("--database-url", url, "leads", "list")
    assert result.exit_code == 4, result.output
    line = one_line(result.stderr)
    assert line.startswith("Error:") and says in line
    assert "s3cret-pw" not in result.output + result.stderr


def test_an_invalid_setting_is_one_line_naming_the_variable_and_exit_code_2() -> None:
    result = leadflow("leads", "list", env={"LEADFLOW_PORT": "eighty"})
    assert result.exit_code == 2
    assert "LEADFLOW_PORT" in one_line(result.stderr)


def test_an_unexpected_failure_is_one_line_and_exit_code_5(tmp_path: Path) -> None:
    with patch.object(admin, "where_it_lives", side_effect=RuntimeError("disk on fire")):
        result = leadflow("--database-url", f"sqlite:///{tmp_path / 'x.db'}", "db", "where")
    assert result.exit_code == 5
    line = one_line(result.stderr)
    assert "RuntimeError: disk on fire" in line and "--debug" in line


def test_debug_shows_the_failure_itself() -> None:
    result = leadflow("--debug", "--database-url", "nonsense", "leads", "list")
    assert isinstance(result.exception, ArgumentError)
    assert result.exit_code not in (0, 4)


def test_the_installed_command_prints_one_line_not_a_traceback() -> None:
    command = str(Path(sys.executable).with_name("leadflow"))  # the console script beside this Python
    run = subprocess.run(  # noqa: PLW1510 - the exit code is what is tested
        [command, "--database-url", UNREACHABLE_POSTGRES, "leads", "list"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "80"},
    )
    assert run.returncode == 4
    assert "Cannot use the database" in one_line(run.stderr)
    debug = subprocess.run(  # noqa: PLW1510 - the exit code is what is tested
        [command, "--debug", "--database-url", "nonsense", "leads", "list"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_version_prints_the_package_version() -> None:
    result = leadflow("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"leadflow {__version__}"


def test_db_where_names_the_file_or_the_server_without_the_password(tmp_path: Path) -> None:
    file = tmp_path / "crm.db"
    result = leadflow("--database-url", f"sqlite:///{file}", "db", "where")
    assert result.exit_code == 0
    assert f"{file} (not created yet)" in result.stdout and "start afresh" in result.stdout
    server = leadflow("--database-url", UNREACHABLE_POSTGRES, "db", "where")  # not opened: no failure
    assert server.exit_code == 0
    assert server.stdout.strip() == "postgresql+psycopg://postgres:***@127.0.0.1:1/leadflow"


def test_serve_says_which_database_it_uses_and_whether_it_loaded_the_demo(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    with patch("uvicorn.run") as serving:
        first = leadflow("--database-url", url, "serve", "--no-demo")
        again = leadflow("--database-url", url, "serve")
    assert first.exit_code == 0 and again.exit_code == 0 and serving.call_count == 2
    assert f"Database: {tmp_path / 'crm.db'} (new)" in first.stdout
    assert f"Database: {tmp_path / 'crm.db'}\n" in again.stdout
    assert "not loaded again" in again.stdout and "Loading demo data" not in again.stdout
