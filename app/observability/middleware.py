"""Bind a request id, and on WebSocket callbacks the connection context, to every log line."""

import re
import uuid
from collections.abc import Callable

import structlog
from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:;=/+-]{1,200}$")


def request_id_for(request: HttpRequest) -> str:
    """X-Request-ID, else API Gateway's X-Amzn-Trace-Id, else a new id."""
    for header in (REQUEST_ID_HEADER, "X-Amzn-Trace-Id"):
        value = request.headers.get(header, "")
        if _SAFE_ID.match(value):
            return value
    return uuid.uuid4().hex


class RequestContextMiddleware:
    """Clears the log context, binds request_id (and the API Gateway ids) for this request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        structlog.contextvars.clear_contextvars()
        request_id = request_id_for(request)
        context = {"request_id": request_id}
        if "Connectionid" in request.headers:
            context["connection_id"] = request.headers["Connectionid"][:128]
            context["api_id"] = request.headers.get("X-Amzn-Apigateway-Api-Id", "")[:64]
        structlog.contextvars.bind_contextvars(**context)
        try:
            response = self.get_response(request)
        finally:
            structlog.contextvars.clear_contextvars()
        response[REQUEST_ID_HEADER] = request_id
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        if "route" in view_kwargs:
            structlog.contextvars.bind_contextvars(route=view_kwargs["route"])


class UserContextMiddleware:
    """Binds the signed-in user's id once authentication has run, except on API Gateway's
    callbacks (views taking a ``route``): reading ``request.user`` loads the session, a query
    a forged callback must not cost before the view refuses it; the callback view binds the
    user itself once the call is authenticated."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        if "route" in view_kwargs:
            return
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            structlog.contextvars.bind_contextvars(user_id=user.pk)
