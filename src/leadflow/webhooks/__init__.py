"""Webhooks: subscriptions to leadflow's events, delivered signed, with retries, to other systems.

Importing the package installs the outbox's listener on the audit log (``outbox``).
"""

from leadflow.webhooks import outbox as outbox
