"""Settings read from environment variables prefixed with ``LEADFLOW_``."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal, cast

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def data_directory() -> Path:
    """leadflow's folder in the user's data directory (platformdirs), created on first use."""
    data_dir = Path(user_data_dir("leadflow", appauthor=False))
    data_dir.mkdir(parents=True, exist_ok=True)
    return data_dir


def default_database_url() -> str:
    """A SQLite file in the user's data directory, created on first use."""
    return f"sqlite:///{data_directory() / 'leadflow.db'}"


class Settings(BaseSettings):
    """Everything an administrator can configure without touching code."""

    model_config = SettingsConfigDict(env_prefix="LEADFLOW_", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    max_attachment_bytes: int = Field(default=32 * 1024 * 1024, gt=0)
    # Largest spreadsheet an import reads (CSV or XLSX), in bytes.
    max_import_bytes: int = Field(default=100 * 1024 * 1024, gt=0)
    base_currency: str = Field(default="EUR", min_length=3, max_length=3)
    host: str = "127.0.0.1"
    port: int = 8000
    # HTTPS: the server's certificate chain and its private key (PEM files), both or neither;
    # unset, ``leadflow serve`` speaks plain HTTP. ``leadflow certs dev`` makes a pair for testing.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # Where people reach the web app, for the links leadflow hands out (password resets);
    # by default the address ``leadflow serve`` listens on.
    public_url: str | None = None
    # Outgoing mail (password reset links): see leadflow.core.mail; unset, links are shown instead.
    smtp_url: str | None = None
    mail_from: str = "leadflow <leadflow@localhost>"
    demo_on_first_start: bool = True
    # Largest number of leads one bulk request over HTTP may name; the CLI streams without a cap.
    max_bulk_leads: int = Field(default=5000, gt=0)
    # Largest number of leads one bulk qualification started as a job may name.
    max_job_leads: int = Field(default=1_000_000, gt=0)
    # Where the job queue lives (leadflow.jobs.queue): unset, beside the database; redis://... for
    # several machines; "immediate" runs each job at once in the process that starts it.
    queue_url: str | None = None
    # The queue's name in its storage: installs that share one Redis need names of their own.
    queue_name: str = Field(default="leadflow", min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    # PostgreSQL connections each process keeps (and may add under load), and how long a request
    # waits for one (seconds); SQLite opens a connection per thread and ignores them.
    pool_size: int = Field(default=5, ge=1, le=200)
    pool_max_overflow: int = Field(default=10, ge=0, le=500)
    pool_timeout: float = Field(default=30, gt=0)
    # Log lines as plain text or as JSON objects (with the request id); /metrics for Prometheus.
    log_format: Literal["text", "json"] = "text"
    metrics: bool = True
    # Threads of each job worker (``leadflow worker``, and the one ``leadflow serve`` embeds).
    worker_threads: int = Field(default=1, gt=0, le=64)
    # Webhook targets whose host is on a loopback, private, link-local, reserved or multicast address:
    # refused (when a subscription is saved and again, against the resolved address, at each delivery)
    # unless "allow" (a receiver on the same machine or network, the test suite's).
    webhook_private_targets: Literal["refuse", "allow"] = "refuse"


def pool_options(settings: Settings) -> dict[str, int | float]:
    """The connection pool's size and timeout for an engine of ``settings.database_url``."""
    if settings.database_url.startswith("sqlite"):
        return {}
    return {
        "pool_size": settings.pool_size,
        "max_overflow": settings.pool_max_overflow,
        "pool_timeout": settings.pool_timeout,
    }


def public_url(settings: Settings) -> str:
    """The web app's address as people reach it."""
    scheme = "https" if settings.tls_cert else "http"
    return (settings.public_url or f"{scheme}://{settings.host}:{settings.port}").rstrip("/")


PasswordHashing = Literal["recommended", "cheapest"]


def password_hashing() -> PasswordHashing:
    """How costly new password hashes are, from ``LEADFLOW_PASSWORD_HASHING``: ``recommended`` (the
    default: argon2id with argon2-cffi's recommended parameters, 64 MiB and 3 passes) or ``cheapest``
    (argon2id with 8 KiB and 1 pass), for test suites only, which hash thousands of throwaway
    passwords. Read on its own: the hasher is made when leadflow.security is imported, before any
    Settings are."""
    value = os.environ.get("LEADFLOW_PASSWORD_HASHING", "recommended")
    if value not in ("recommended", "cheapest"):
        raise ValueError(f"LEADFLOW_PASSWORD_HASHING must be recommended or cheapest, not {value!r}")
    return cast(PasswordHashing, value)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
