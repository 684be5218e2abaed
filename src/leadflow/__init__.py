"""leadflow: an open-source sales CRM built around the lead lifecycle."""

__version__ = "0.1.0"
