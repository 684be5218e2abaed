"""The layers of the house hold: no import runs from a lower layer back up, and every package has a layer."""

from __future__ import annotations

import pkgutil
import re
import tomllib
from pathlib import Path

import pytest
from importlinter.application.use_cases import lint_imports
from importlinter.configuration import configure

import leadflow

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
# Alembic's scripts are loaded by path at run time, not imported by any layer.
OUTSIDE_THE_LAYERS = {"migrations"}


def _layers() -> list[str]:
    config = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["id"] == "layers"]
    return contract["layers"]


def test_no_import_runs_from_a_lower_layer_back_up(capsys: pytest.CaptureFixture[str]) -> None:
    configure()  # the readers and printers the command line would set up
    kept = lint_imports(config_filename=str(PYPROJECT), cache_dir=None, no_logo=True)
    report = capsys.readouterr().out
    assert kept, report


def test_every_package_of_leadflow_stands_in_a_layer() -> None:
    placed = {name.removeprefix("leadflow.") for layer in _layers() for name in re.split(r"\s*\|\s*", layer)}
    packages = {module.name for module in pkgutil.iter_modules(leadflow.__path__)} - OUTSIDE_THE_LAYERS
    assert packages == placed, f"not in a layer: {sorted(packages - placed)}; gone: {sorted(placed - packages)}"
