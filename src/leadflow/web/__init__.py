"""The server-rendered web app: HTML pages beside the REST API (sign-in first)."""

from leadflow.web.routes import router as web_router

__all__ = ["web_router"]
