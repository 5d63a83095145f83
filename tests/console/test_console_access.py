"""The console's front door: login, roles, CSRF, and who may bind where."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff_sync.console.auth import bind_problem
from handoff_sync.sandbox.server import SandboxServer
from tests.console.support import (
    ADMIN,
    PASSWORD,
    VIEWER,
    client_for,
    console_section,
    console_world,
    csrf_of,
)


@pytest.fixture
def world(sandbox: SandboxServer, tmp_path: Path) -> Any:
    with console_world(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/state.db",
                       deals=12) as world:
        yield world


def test_a_page_without_a_session_goes_to_the_login(world: dict[str, Any]) -> None:
    client = client_for(world["context"], user=None)
    response = client.get("/audit", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/audit"
    htmx = client.get("/audit", headers={"HX-Request": "true"}, follow_redirects=False)
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/login")


def test_a_login_lands_on_the_page_asked_for_and_names_the_user(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"], user=None)
    token = csrf_of(client)
    response = client.post("/login?next=/audit", data={
        "name": VIEWER, "password": PASSWORD, "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/audit"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    page = client.get("/audit")
    assert "vic · viewer" in page.text


def test_a_login_never_sends_anyone_to_another_site(world: dict[str, Any]) -> None:
    client = client_for(world["context"], user=None)
    token = csrf_of(client)
    response = client.post("/login?next=//evil.example/x", data={
        "name": ADMIN, "password": PASSWORD, "csrf_token": token}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"], user=None)
    token = csrf_of(client)
    for name in (ADMIN, "nobody"):
        response = client.post("/login", data={"name": name, "password": "nope",
                                               "csrf_token": token})
        assert response.status_code == 401
        assert "Wrong name or password." in response.text


def test_a_post_without_the_sessions_token_is_refused(world: dict[str, Any]) -> None:
    client = client_for(world["context"], user=ADMIN)
    response = client.post("/logout", data={"csrf_token": "forged"}, follow_redirects=False)
    assert response.status_code == 403 and "another site" in response.text
    assert client.get("/audit", follow_redirects=False).status_code == 200  # still in


def test_a_token_header_in_any_script_is_refused_not_a_crash(world: dict[str, Any]) -> None:
    client = client_for(world["context"], user=ADMIN)
    # Raw header bytes (latin-1 on the wire): what a hostile client can send.
    for forged in ("été".encode("latin-1"), "é".encode(), b"x" * 5000):
        response = client.post("/logout", headers={"X-CSRF-Token": forged},
                               follow_redirects=False)
        assert response.status_code == 403 and "another site" in response.text


def test_a_cross_site_post_is_refused_even_with_the_token(world: dict[str, Any]) -> None:
    client = client_for(world["context"], user=ADMIN)
    token = csrf_of(client, "/audit")
    response = client.post("/logout", data={"csrf_token": token},
                           headers={"Origin": "https://evil.example"},
                           follow_redirects=False)
    assert response.status_code == 403
    same_site = client.post("/logout", data={"csrf_token": token},
                            headers={"Origin": "http://127.0.0.1"}, follow_redirects=False)
    assert same_site.status_code == 303


def test_without_users_the_loopback_console_is_the_local_operators(
        sandbox: SandboxServer, tmp_path: Path) -> None:
    with console_world(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/s.db",
                       deals=6, section=console_section(users=False)) as world:
        page = client_for(world["context"], user=None).get("/audit")
        assert page.status_code == 200 and "No login configured" in page.text
        remote = client_for(world["context"], user=None, local=False)
        assert remote.get("/audit", follow_redirects=False).status_code == 303
        problem = bind_problem(world["config"].console, "0.0.0.0")
        assert problem is not None and "console.users" in problem
        assert bind_problem(world["config"].console, "127.0.0.1") is None


def test_the_html_is_escaped_and_the_static_files_are_served(world: dict[str, Any]) -> None:
    client = client_for(world["context"], user=ADMIN)
    assert "htmx" in client.get("/static/htmx.min.js").text[:200]
    response = client.get("/login?next=/%22%3E%3Cscript%3Ealert(1)%3C/script%3E")
    assert "<script>alert(1)</script>" not in response.text
