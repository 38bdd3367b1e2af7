"""/docs (Swagger UI) and /redoc served with assets from the service itself: the pages work
on a network with no way out (the assets ship in the fastapi-offline wheel)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).parent / "static"
PREFIX = "/docs-assets"
REDOC_STYLE = 'a[href*="redoc.ly"], a[href*="redocly.com"] { display: none !important; }'
REDOC_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' blob:; worker-src 'self' blob:; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'"
)


# ReDoc's sidebar shows its maker's logo from a CDN; the copy served here shows ours.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@lru_cache(maxsize=1)
def _redoc_script() -> bytes:
    return (ASSETS / "redoc.standalone.js").read_bytes().replace(REDOC_LOGO.encode(), f"{PREFIX}/favicon.png".encode())


def install(app: FastAPI) -> None:
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get(f"{PREFIX}/redoc.js", include_in_schema=False)
    async def redoc_script() -> Response:
        return Response(
            _redoc_script(), media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"}
        )

    app.mount(PREFIX, StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} · API",
            swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{PREFIX}/favicon.png",
            # No validator badge: it would ask validator.swagger.io about the schema.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} · API",
            redoc_js_url=f"{PREFIX}/redoc.js",
            redoc_favicon_url=f"{PREFIX}/favicon.png",
            with_google_fonts=False,
        )
        # The page loads nothing from elsewhere, and links to no one else's site.
        html = page.body.decode().replace("</head>", f"<style>{REDOC_STYLE}</style></head>", 1)
        return HTMLResponse(html, headers={"Content-Security-Policy": REDOC_CSP})
