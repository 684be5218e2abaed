"""The Alembic migrations build exactly the schema the models describe, on each backend."""

import warnings

from alembic import command
from sqlalchemy.exc import SAWarning

from leadflow.core.migrate import alembic_config


def test_migrations_match_the_models(database):
    url = database.engine.url.render_as_string(hide_password=False)
    with warnings.catch_warnings():
        # SQLite cannot reflect an index on an expression (the lead list's sort indexes);
        # tests/integration/test_lead_list_indexes.py checks those on both backends instead.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index", SAWarning)
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
        command.check(alembic_config(url))  # raises when autogenerate would find a difference
