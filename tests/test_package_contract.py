"""What realtime/adapter.py relies on in django-aws-api-gateway-websockets (pinned <4.2).

The adapter overrides and calls the package's private methods; each test pins one behaviour
it depends on, so a new package version that changes one fails here, by name, before it
fails somewhere in the layer. Moving to the next minor version: run this file, adapt
realtime/adapter.py and these tests, nothing else.
"""

import inspect

import pytest
from django.test import Client, RequestFactory
from django_aws_api_gateway_websockets.views import WebSocketView

from realtime.adapter import EXTENSIONS_HEADER, PACKAGE_REFUSALS, PackageView
from realtime.callbacks import CallbackView
from realtime.refusals import Refusal
from tests.support import gateway as gw

# The private methods the adapter overrides or calls, with the parameters it passes.
PRIVATE_METHODS = {
    "_get_client_ip": ["request"],
    "_is_valid_channel_name": ["channel_name"],
    "_return_bad_request": ["msg"],
    "_check_platform_registered_api_gateways": ["request"],
    "_load_session": ["request"],
    "_expected_connection_headers": ["request"],
    "_validate_connection_id": ["connection_id"],
    "_check_allowed_hosts": ["request"],
    "_check_host_is_in_origin": ["request"],
    "_get_channel_name": ["request"],
    "_gateway_secret_valid": ["request"],
}


@pytest.mark.parametrize(("name", "parameters"), PRIVATE_METHODS.items())
def test_each_private_method_the_adapter_uses_exists_with_its_parameters(name, parameters):
    signature = inspect.signature(getattr(WebSocketView, name))
    positional = [p for p in signature.parameters if p not in ("self", "args", "kwargs")]
    assert positional[: len(parameters)] == parameters


def test_the_adapter_overrides_exactly_the_hooks_it_names():
    overridden = {name for name in vars(PackageView) if name.startswith("_") and name[1] != "_"}
    assert overridden == {
        "_get_client_ip",
        "_is_valid_channel_name",
        "_return_bad_request",
        "_check_platform_registered_api_gateways",
        "_load_session",
    }


def bad_request_texts(view: WebSocketView, request) -> list[str]:
    """Every text the package's own refusals pass to ``_return_bad_request``."""
    texts: list[str] = []
    view._return_bad_request = lambda msg: texts.append(msg)  # type: ignore[method-assign]
    view.missing_headers(request)
    view.handler_selection_key_missing(request)
    view.session_not_found(request)
    view.invalid_useragent(request)
    return texts


def test_every_refusal_text_of_the_package_maps_to_a_named_refusal():
    request = RequestFactory().post("/ws/default", headers=gw.callback_headers("abc="))
    view = WebSocketView()
    texts = bad_request_texts(view, request)
    assert len(texts) == 4
    prefixes = [prefix for prefix, _refusal in PACKAGE_REFUSALS]
    assert all(any(text.startswith(prefix) for prefix in prefixes) for text in texts), texts


def test_a_malformed_channel_raises_value_error_and_none_falls_back_to_the_default():
    view = WebSocketView()
    view.api_gateway = type("Gateway", (), {"default_channel_name": "lobby"})()
    with pytest.raises(ValueError):
        view._get_channel_name(RequestFactory().get("/ws/connect", {"channel": "a b"}))
    assert view._get_channel_name(RequestFactory().get("/ws/connect")) == "lobby"


@pytest.mark.django_db
def test_every_frame_reaches_default_when_it_is_the_only_allowed_handler(connected, caller):
    """The layer dispatches to the features itself: the package must hand every message,
    whatever its action or handler key names, to ``default``."""
    reached: list[str] = []
    original = CallbackView.default

    def recording(self, request, *args, **kwargs):
        reached.append(str(self.body))
        return original(self, request, *args, **kwargs)

    connection_id = connected()
    CallbackView.default = recording  # type: ignore[method-assign]
    try:
        for body in ('{"action": "connect"}', '{"handler": "disconnect"}', '{"action": "ping"}'):
            caller.message(connection_id, body)
    finally:
        CallbackView.default = original  # type: ignore[method-assign]
    assert len(reached) == 3


def test_unknown_texts_are_the_catch_all_refusal():
    from realtime.adapter import package_refusal

    assert package_refusal("something new") is Refusal.OTHER


def test_the_callbacks_need_no_csrf_token(api_gateway, channels, browser):
    """API Gateway sends none: the adapter's dispatch stays exempt, as the package's is."""
    caller = gw.GatewayCaller(Client(enforce_csrf_checks=True))
    response = caller.connect(
        gw.new_connection_id(), browser.cookie, {"ws_token": browser.token(), "channel": "lobby"}
    )
    assert response.status_code == 200, response.content


def test_the_header_lists_the_adapter_adjusts_are_the_packages():
    """The adapter empties ``additional_required_headers`` and may drop
    Sec-Websocket-Extensions from ``required_connection_headers``: both keep these names."""
    assert set(WebSocketView.additional_required_headers) == {
        "X-Amzn-Trace-Id",
        "X-Forwarded-Port",
        "X-Real-Ip",
    }
    assert EXTENSIONS_HEADER in WebSocketView.required_connection_headers
    assert PackageView.additional_required_headers == []
