"""The Alembic migrations build exactly the schema the models describe, on each backend."""

from alembic import command

from leadflow.migrate import alembic_config


def test_migrations_match_the_models(database):
    url = database.engine.url.render_as_string(hide_password=False)
    command.check(alembic_config(url))  # raises when autogenerate would find a difference
