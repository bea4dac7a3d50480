"""The demo page and the local seeding command."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django_aws_api_gateway_websockets.models import ApiGateway


def test_demo_page_needs_sign_in(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_demo_page_carries_its_configuration(client, user, settings):
    settings.WS_PUBLIC_URL = "wss://ws.example.com/production"
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    assert response.context["demo_config"] == {
        "wsUrl": "wss://ws.example.com/production",
        "tokenUrl": "/api/ws-token/",
        "autoConnect": True,
        # API Gateway's limits, which the page's heartbeat and renewal plan around.
        "idleTimeoutSeconds": 600,
        "maxDurationSeconds": 7200,
    }
    html = response.content.decode()
    assert 'id="demo-config"' in html and "realtime.js" in html
    assert 'id="broadcast-form"' not in html  # alice may not broadcast
    assert "csrftoken" in response.cookies


def test_broadcast_form_shows_for_users_with_the_permission(client, broadcaster):
    client.force_login(broadcaster)
    assert 'id="broadcast-form"' in client.get("/").content.decode()


def test_seed_local_stack_is_idempotent(db, monkeypatch, capsys):
    monkeypatch.setenv("DEMO_PASSWORD", "demo-password-123")
    call_command("seed_local_stack", "--username", "demo")
    call_command("seed_local_stack", "--username", "demo")
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {(result["event"], result["command"]) for result in results} == {
        ("command.summary", "seed_local_stack")
    }
    assert [result["user_created"] for result in results] == [True, False]
    assert ApiGateway.objects.get(api_id="local").stage_name == "local"
    demo = get_user_model().objects.get(username="demo")
    assert demo.check_password("demo-password-123")
    assert demo.has_perm("broadcasts.send_broadcast")


def test_seed_local_stack_refuses_without_a_password(db, monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="DEMO_PASSWORD"):
        call_command("seed_local_stack")


def test_seed_local_stack_refuses_in_production(db, settings, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "x")
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("seed_local_stack")
