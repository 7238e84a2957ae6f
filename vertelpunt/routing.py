"""Routes that carry their access rule: every route says which roles may use it."""

from __future__ import annotations

from starlette.routing import Route

from .auth import guard


def page(path: str, handler, name: str, roles: frozenset[str], methods=("GET",)) -> Route:
    return _route(path, handler, name, roles, methods, api=False)


def endpoint(path: str, handler, name: str, roles: frozenset[str], methods=("GET",)) -> Route:
    return _route(path, handler, name, roles, methods, api=True)


def _route(path, handler, name, roles, methods, api: bool) -> Route:
    route = Route(path, guard(handler, roles, api=api), methods=list(methods), name=name)
    route.allowed_roles = roles
    return route
