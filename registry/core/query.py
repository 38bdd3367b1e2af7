"""Query strings that say only what a route understands: an unknown parameter is refused with
422 rather than ignored, so a caller never believes it filtered (`?code=` on a list that has
no such filter). One dependency, applied to every route by the application factory, so a
route added later is covered without a line of its own. It judges the API's routes (`/v1`,
`/admin`); public routes that read no input (health, metrics, JWKS, the token endpoint, which
answers RFC 6749 errors) and the console's pages are not filters and are left alone."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from registry.core.errors import FieldError, Invalid

# The routes whose query parameters are filters and options of the API.
API_PREFIXES = ("/v1/", "/admin/")
_DECLARED = "registry_declared_query_parameters"


def declared_query_parameters(route: APIRoute) -> frozenset[str]:
    """The names (aliases) of every query parameter `route` and its dependencies declare:
    walked once per route (kept on the route), on its first request with a query string."""
    declared = route.__dict__.get(_DECLARED)
    if declared is None:
        declared = route.__dict__[_DECLARED] = frozenset(_query_parameters(route.dependant))
    return declared


def _query_parameters(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for dependency in dependant.dependencies:
        names |= _query_parameters(dependency)
    return names


async def refuse_unknown_query_parameters(request: Request) -> None:
    if not request.query_params or not request.url.path.startswith(API_PREFIXES):
        return
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    unknown = sorted(set(request.query_params.keys()) - declared_query_parameters(route))
    if unknown:
        raise Invalid(
            f"Unknown query parameter: {', '.join(unknown)}; nothing was filtered by it",
            errors=[FieldError(field=name, message="unknown query parameter") for name in unknown],
        )


RefuseUnknownQueryParameters = Depends(refuse_unknown_query_parameters)
