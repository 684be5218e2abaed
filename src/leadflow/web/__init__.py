"""The server-rendered web app: the sales hub beside the REST API."""

from fastapi import APIRouter, Depends

from leadflow.web.pages import install_web_handlers, require_form_token
from leadflow.web.routes import router as _sign_in_router

web_router = APIRouter(include_in_schema=False)
web_router.include_router(_sign_in_router)


def _include_page_routers() -> None:
    """Every area of the app registers its own router; one module per area keeps them independent."""
    from leadflow.web import areas

    for router in areas.routers():
        web_router.include_router(router, dependencies=[Depends(require_form_token)])


_include_page_routers()

__all__ = ["install_web_handlers", "web_router"]
