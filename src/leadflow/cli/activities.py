"""`leadflow activities list|show|add-task|add-call|add-appointment|add-email|update|complete|cancel|
reopen|delete|send|timeline|calendar-feed ...`: the seller's day from the command line.

Each command runs one activities use case, where the privileges (each type its own: tasks,
phone_calls, appointments, emails) and the state rules are checked. Moments are read and printed on
the acting user's clock: a date-time without a zone (2026-12-07T16:30, or a bare day 2026-12-07 for its
midnight) is in the user's time zone (their own, else the organisation's, else UTC); ``--json``
prints moments in UTC, as the REST API does. An e-mail asked to be sent is sent by a job, handed to
the queue once the e-mail is saved.

The commands live in ``activities_commands`` and ``activities_timeline``, sharing
``activities_common``; importing them adds them to the command group this one registers.
"""

from __future__ import annotations

import typer

from leadflow.cli import activities_commands, activities_timeline
from leadflow.cli.activities_common import activities_app

# The modules whose commands `activities_app` has once they are imported (in the order of its help).
COMMAND_MODULES = (activities_commands, activities_timeline)


def register(app: typer.Typer) -> None:
    """Add `leadflow activities ...` to the root command."""
    app.add_typer(activities_app, name="activities")
