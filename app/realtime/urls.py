"""The package's conventions: API Gateway calls ws/<route>; browsers POST for a token."""

from django.urls import path

from realtime.callbacks import CallbackView
from realtime.tokens import TokenView

urlpatterns = [
    path("ws/<slug:route>", CallbackView.as_view(), name="websocket"),
    path("api/ws-token/", TokenView.as_view(), name="ws-token"),
]
