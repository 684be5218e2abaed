"""Demo data: about forty leads in Spanish and English, through every step of the lead lifecycle,
with demo users of every role (``data`` holds the data, ``load`` loads it through the services)."""

from leadflow.demo.data import CAMPAIGNS, DEMO_LEADS, DEMO_USERS
from leadflow.demo.load import load_demo, opened_at

__all__ = ["CAMPAIGNS", "DEMO_LEADS", "DEMO_USERS", "load_demo", "opened_at"]
