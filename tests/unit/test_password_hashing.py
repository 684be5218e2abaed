"""Passwords are hashed with argon2id at the library's recommended cost unless a test suite asks for the
cheapest (LEADFLOW_PASSWORD_HASHING=cheapest, which tests/conftest.py sets for the suite's throwaway
passwords); any other value is refused at start-up rather than silently weakening the hashes."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = (
    "from leadflow.security.credentials import password_hasher as h, hash_password;"
    "print(h.time_cost, h.memory_cost, h.parallelism, hash_password('x' * 12).split('$')[3])"
)


def _probe(value: str | None) -> subprocess.CompletedProcess[str]:
    env = {key: item for key, item in os.environ.items() if key != "LEADFLOW_PASSWORD_HASHING"}
    if value is not None:
        env["LEADFLOW_PASSWORD_HASHING"] = value
    return subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_without_the_setting_hashes_use_argon2s_recommended_cost() -> None:
    probe = _probe(None)
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == ["3", "65536", "4", "m=65536,t=3,p=4"]


def test_the_cheapest_cost_is_only_what_the_setting_asks() -> None:
    probe = _probe("cheapest")
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == ["1", "8", "1", "m=8,t=1,p=1"]


def test_an_unknown_value_stops_the_start() -> None:
    probe = _probe("fast")
    assert probe.returncode != 0
    assert "LEADFLOW_PASSWORD_HASHING must be recommended or cheapest" in probe.stderr
