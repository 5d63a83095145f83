"""The console's security (issue 17, point 5), as an attacker would try it.

No session -> the login; a viewer cannot save (every admin POST the app registers); a
cross-site POST is refused; a ``<script>`` deal name is text on every page; wrong
passwords are slowed down and then locked out; a non-loopback bind without a login
refuses to start (the daemon's `run` too: tests/e2e/test_daemon_console.py,
test_run_refuses_a_console_without_login_on_a_public_address). And around them: Secure
cookies behind a TLS proxy, the proxy's identity header believed only from a trusted
peer, a new session at login, logouts and expiry that kill a copied cookie, security
headers and no-store on every response, and no secret on any page, error page or log
line."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog
from hubspot import HubSpot
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.testclient import TestClient

from handoff_sync.cli.main import main
from handoff_sync.console import templating
from handoff_sync.console.app import create_app
from handoff_sync.console.auth import require_admin
from handoff_sync.console.context import ConsoleContext
from handoff_sync.console.headers import CONTENT_SECURITY_POLICY
from handoff_sync.console.throttle import LoginThrottle
from handoff_sync.errors import UserError
from handoff_sync.safety import redaction
from handoff_sync.sandbox.server import SandboxServer
from tests.console.support import (
    ADMIN,
    NOW,
    PASSWORD,
    VIEWER,
    console_section,
    console_world,
    csrf_of,
    login,
)

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
SECRET_VARIABLE = "HS_CONSOLE_TEST_SESSION_SECRET"
SESSION_SECRET = "a-session-secret-for-the-console-tests-only"
# POST routes a viewer may use; every other POST the app registers is an admin action.
# /policy/preview is the what-if of a policy edit: it saves nothing (its tests show it).
VIEWER_POSTS = {"/login", "/logout", "/policy/preview"}
TEST_SAVE = "/test-only/save"
PROXY = ("10.0.0.7", 41000)  # a reverse proxy's address, trusted in these configs


async def _save(request: Request) -> Response:
    """Stands in for a page's save (pages are added by other work): admin only."""
    require_admin(request, "save this")
    return PlainTextResponse("saved")


async def _crash(request: Request) -> Response:
    raise RuntimeError(f"bug while reading {request.query_params.get('what', '')}")


async def _refuse(request: Request) -> Response:
    raise UserError(f"cannot use {request.query_params.get('what', '')}")


EXTRA = [Route(TEST_SAVE, _save, methods=["POST"]), Route("/test-only/crash", _crash),
         Route("/test-only/refuse", _refuse)]


def app_for(context: ConsoleContext, **kwargs: Any) -> Starlette:
    return create_app(context, extra_routes=list(EXTRA), **kwargs)


def client(context: ConsoleContext, user: str | None = None, *, base_url: str =
           "http://127.0.0.1", peer: tuple[str, int] = ("testclient", 50000),
           headers: dict[str, str] | None = None, **kwargs: Any) -> TestClient:
    """A client of a new app (with the test routes), logged in as ``user``; ``peer``:
    the address the console sees the request come from."""
    result = TestClient(app_for(context, **kwargs), base_url=base_url, client=peer,
                        headers=headers)
    if user is not None:
        login(result, user)
    return result


def post_routes(routes: list[BaseRoute], prefix: str = "") -> list[str]:
    """Every path that takes a POST, mounts included, with its parameters filled in."""
    found: list[str] = []
    for route in routes:
        if isinstance(route, Route) and "POST" in (route.methods or set()):
            path = prefix + route.path_format
            for name in route.param_convertors:
                path = path.replace("{" + name + "}", "1")
            found.append(path)
        elif isinstance(route, Mount) and route.routes:
            found += post_routes(list(route.routes), prefix + route.path)
    return found


def get_pages(app: Starlette) -> list[str]:
    return [href for href, _ in app.state.nav]


def get_routes(routes: list[BaseRoute], prefix: str = "") -> list[str]:
    """Every GET path without parameters (a page's views and fragments), mounts included."""
    found: list[str] = []
    for route in routes:
        if (isinstance(route, Route) and "GET" in (route.methods or set())
                and not route.param_convertors):
            found.append(prefix + route.path)
        elif isinstance(route, Mount) and route.routes:
            found += get_routes(list(route.routes), prefix + route.path)
    return found


@pytest.fixture
def world(sandbox: SandboxServer, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv(SECRET_VARIABLE, SESSION_SECRET)
    section = console_section(extra=f"session_secret: ${{{SECRET_VARIABLE}}}\n"
                                    "session_minutes: 60\n")
    with console_world(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/state.db",
                       deals=12, section=section) as world:
        yield world


# -- no session, roles, CSRF


def test_every_page_without_a_session_goes_to_the_login(world: dict[str, Any]) -> None:
    anonymous = client(world["context"])
    pages = get_pages(anonymous.app)  # type: ignore[arg-type]
    assert pages, "the console has no page"
    for page in [*pages, "/", TEST_SAVE, "/test-only/crash"]:
        response = anonymous.get(page, follow_redirects=False)
        assert response.status_code == 303, page
        assert response.headers["location"].startswith("/login"), page
    for path in post_routes(anonymous.app.routes):  # type: ignore[attr-defined]
        if path not in VIEWER_POSTS:
            response = anonymous.post(path, data={"csrf_token": csrf_of(anonymous)},
                                      follow_redirects=False)
            assert response.status_code == 303, path


def test_a_viewer_cannot_save_anything(world: dict[str, Any]) -> None:
    viewer = client(world["context"], VIEWER)
    admin = client(world["context"], ADMIN)
    saves = [p for p in post_routes(viewer.app.routes)  # type: ignore[attr-defined]
             if p not in VIEWER_POSTS]
    assert TEST_SAVE in saves
    for path in saves:
        token = csrf_of(viewer, "/audit")
        refused = viewer.post(path, data={"csrf_token": token}, follow_redirects=False)
        assert refused.status_code == 403, (path, refused.text[:300])
        assert "viewer role cannot" in refused.text, path
        no_token = viewer.post(path, follow_redirects=False)
        assert no_token.status_code == 403, path
    saved = admin.post(TEST_SAVE, data={"csrf_token": csrf_of(admin, "/audit")})
    assert saved.status_code == 200 and saved.text == "saved"  # the route itself works


def test_a_cross_site_post_without_the_token_is_refused(world: dict[str, Any]) -> None:
    admin = client(world["context"], ADMIN)
    token = csrf_of(admin, "/audit")
    for path in [p for p in post_routes(admin.app.routes)  # type: ignore[attr-defined]
                 if p != "/login"]:
        for forged in ({}, {"csrf_token": "forged"}, {"csrf_token": ""}):
            response = admin.post(path, data=forged, headers={"Origin": "https://evil.example"},
                                  follow_redirects=False)
            assert response.status_code == 403, (path, forged)
            assert "another site" in response.text
        # A browser marks a request from another site; refused even with the token.
        marked = admin.post(path, data={"csrf_token": token},
                            headers={"Sec-Fetch-Site": "cross-site"}, follow_redirects=False)
        assert marked.status_code == 403, path
    # The token in the header works as in the form (htmx sends it so), once a token is right.
    saved = admin.post(TEST_SAVE, headers={"X-CSRF-Token": token, "Sec-Fetch-Site": "same-origin"})
    assert saved.status_code == 200
    assert admin.get("/audit", follow_redirects=False).status_code == 200  # still logged in


# -- escaping


def test_a_script_in_a_deal_name_shows_as_text_on_every_page(
        world: dict[str, Any], hs: HubSpot) -> None:
    deal = hs.crm.deals.basic_api.get_page(limit=1).results[0]
    hs.crm.deals.basic_api.update(deal.id, {"properties": {"dealname": HOSTILE}})
    world["runner"].run_cycle()
    mirror = world["store"].load_pipeline(world["config"].pipelines[0].name).mirror
    held = sum(HOSTILE in str(record.fields) for records in mirror.values()
               for record in records.values())
    assert held >= 1  # the name is in the store, to be shown
    # An audit entry quoting the name too, so at least one page shows it today.
    world["store"].record_mapping_edit(
        str(world["mappings"]), at=NOW, by=HOSTILE, summary=f"gate for {HOSTILE}",
        diff={"prm.yaml": f"-  name: x\n+  name: {HOSTILE}\n"})
    admin = client(world["context"], ADMIN)
    shown = 0
    for page in get_pages(admin.app):  # type: ignore[arg-type]
        response = admin.get(page)
        assert response.status_code == 200, page
        assert HOSTILE not in response.text, page
        shown += ESCAPED in response.text
    assert shown >= 1
    # The pages' other views and htmx fragments too (those that take no parameter).
    for path in get_routes(admin.app.routes):  # type: ignore[attr-defined]
        if not path.startswith("/test-only/"):
            assert HOSTILE not in admin.get(path, headers={"HX-Request": "true"}).text, path


# -- login throttling


class FakeTime:
    """A clock to move by hand, and a sleep that only records how long it was asked for."""

    def __init__(self) -> None:
        self.now, self.slept = 1000.0, []  # type: float, list[float]

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def try_login(user: TestClient, name: str, password: str, **kwargs: Any) -> Any:
    return user.post("/login", data={"name": name, "password": password,
                                     "csrf_token": csrf_of(user)},
                     follow_redirects=False, **kwargs)


def test_wrong_passwords_are_slowed_down_then_locked_out(world: dict[str, Any]) -> None:
    time = FakeTime()
    throttle = LoginThrottle(burst=5, window=600, max_delay=4, clock=time.clock,
                             sleep=time.sleep)
    attacker = client(world["context"], throttle=throttle)
    for _ in range(4):
        assert try_login(attacker, ADMIN, "guess").status_code == 401
    assert time.slept == [0.5, 1.0, 2.0, 4.0]  # doubling, capped at max_delay
    # The right password still works before the burst, and clears the count.
    assert try_login(attacker, ADMIN, PASSWORD).status_code == 303
    attacker.cookies.clear()
    time.slept.clear()
    for _ in range(5):
        try_login(attacker, ADMIN, "guess")
    assert time.slept == [0.5, 1.0, 2.0, 4.0, 4.0]
    locked = try_login(attacker, ADMIN, PASSWORD)  # even the right one, now
    assert locked.status_code == 429 and "Too many failed logins" in locked.text
    assert int(locked.headers["Retry-After"]) == 601  # the oldest failure, 600 s on
    assert len(time.slept) == 5  # a locked try is refused at once, without checking
    # Another name from the same client is not locked; nor the same name elsewhere.
    assert try_login(attacker, VIEWER, PASSWORD).status_code == 303
    # A forged X-Forwarded-For from a peer that is no proxy does not dodge the lock.
    forged = try_login(attacker, ADMIN, PASSWORD, headers={"X-Forwarded-For": "192.0.2.9"})
    assert forged.status_code == 429
    time.now += 601
    assert try_login(attacker, ADMIN, PASSWORD).status_code == 303


def test_behind_a_trusted_proxy_the_lock_is_per_forwarded_client(
        sandbox: SandboxServer, tmp_path: Path) -> None:
    section = console_section(extra=f"trusted_proxies: ['{PROXY[0]}']\n")
    with console_world(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/p.db",
                       deals=4, section=section) as world:
        time = FakeTime()
        throttle = LoginThrottle(burst=2, window=600, clock=time.clock, sleep=time.sleep)
        proxied = client(world["context"], peer=PROXY, throttle=throttle)
        one, other = {"X-Forwarded-For": "192.0.2.1"}, {"X-Forwarded-For": "192.0.2.2"}
        for _ in range(2):
            try_login(proxied, ADMIN, "guess", headers=one)
        assert try_login(proxied, ADMIN, PASSWORD, headers=one).status_code == 429
        assert try_login(proxied, ADMIN, PASSWORD, headers=other).status_code == 303


# -- sessions


def session_cookie(response: Any) -> str:
    return str(response.headers.get("set-cookie", ""))


def test_a_login_starts_a_new_session_and_a_planted_one_is_worthless(
        world: dict[str, Any]) -> None:
    browser = client(world["context"])
    planted_token = csrf_of(browser)
    planted = dict(browser.cookies)
    assert planted, "the login page sets a session for its CSRF token"
    login(browser, ADMIN)
    assert dict(browser.cookies) != planted
    assert csrf_of(browser, "/audit") != planted_token  # the token changed with the session
    attacker = client(world["context"])
    attacker.cookies.update(planted)
    assert attacker.get("/audit", follow_redirects=False).status_code == 303


def test_a_logged_out_session_cannot_be_replayed(world: dict[str, Any]) -> None:
    browser = client(world["context"], ADMIN)
    copied = dict(browser.cookies)
    out = browser.post("/logout", data={"csrf_token": csrf_of(browser, "/audit")},
                       follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert browser.get("/audit", follow_redirects=False).status_code == 303
    thief = TestClient(browser.app, base_url="http://127.0.0.1")
    thief.cookies.update(copied)
    assert thief.get("/audit", follow_redirects=False).status_code == 303


def test_a_session_ends_after_session_minutes_however_busy(world: dict[str, Any]) -> None:
    now = [NOW]
    context = ConsoleContext(world["config"], world["store"], clock=lambda: now[0])
    browser = client(context, ADMIN)
    now[0] = NOW + timedelta(minutes=59)
    assert browser.get("/audit", follow_redirects=False).status_code == 200
    now[0] = NOW + timedelta(minutes=60)
    response = browser.get("/audit", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_a_user_removed_from_the_config_loses_access(world: dict[str, Any]) -> None:
    config = world["config"]
    browser = client(world["context"], VIEWER)
    demoted = client(world["context"], ADMIN)
    console = config.console
    users = [u.model_copy(update={"role": "viewer"}) if u.name == ADMIN else u
             for u in console.users if u.name != VIEWER]
    edited = config.model_copy(update={"console": console.model_copy(update={"users": users})})
    restarted = create_app(ConsoleContext(edited, world["store"], clock=lambda: NOW),
                           extra_routes=list(EXTRA))
    # The same cookies (the same session_secret) against the restarted console.
    gone = TestClient(restarted, base_url="http://127.0.0.1")
    gone.cookies.update(dict(browser.cookies))
    assert gone.get("/audit", follow_redirects=False).status_code == 303
    was_admin = TestClient(restarted, base_url="http://127.0.0.1")
    was_admin.cookies.update(dict(demoted.cookies))
    page = was_admin.get("/audit")
    assert page.status_code == 200 and f"{ADMIN} · viewer" in page.text
    token = csrf_of(was_admin, "/audit")
    assert was_admin.post(TEST_SAVE, data={"csrf_token": token}).status_code == 403


def test_session_cookies_are_secure_when_the_browser_came_over_tls(
        sandbox: SandboxServer, tmp_path: Path) -> None:
    section = console_section(extra="trusted_proxies: ['10.0.0.0/24']\n")
    with console_world(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/t.db",
                       deals=4, section=section) as world:
        context = world["context"]
        tls = {"X-Forwarded-Proto": "https"}

        def cookie_of(**kwargs: Any) -> str:
            return session_cookie(client(context, **kwargs).get("/login")).lower()

        plain = cookie_of()
        assert "httponly" in plain and "samesite=strict" in plain and "secure" not in plain
        assert "; secure" in cookie_of(base_url="https://127.0.0.1")
        proxied = client(context, peer=PROXY)
        assert "; secure" in session_cookie(proxied.get("/login", headers=tls)).lower()
        assert "; secure" not in session_cookie(client(context, peer=PROXY).get(
            "/login", headers={"X-Forwarded-Proto": "http"})).lower()
        # Anyone else saying so is not believed (127.0.0.1 is not in this config's list).
        untrusted = client(context, peer=("127.0.0.1", 5000))
        assert "; secure" not in session_cookie(untrusted.get("/login", headers=tls)).lower()
        # Behind the proxy a whole login works, the session cookie Secure throughout.
        browser = client(context, peer=PROXY, base_url="http://console.internal",
                         headers={**tls, "X-Forwarded-Host": "console.example"})
        token = token_in(carry(browser, browser.get("/login")))
        response = carry(browser, browser.post("/login", data={
            "name": ADMIN, "password": PASSWORD, "csrf_token": token}, follow_redirects=False))
        assert response.status_code == 303
        page = carry(browser, browser.get("/audit"))
        assert f"{ADMIN} · admin" in page.text
        # The Origin the browser sends names the public host the proxy forwarded.
        saved = browser.post(TEST_SAVE, data={"csrf_token": token_in(page)},
                             headers={"Origin": "https://console.example"})
        assert saved.status_code == 200


def carry(browser: TestClient, response: Any) -> Any:
    """Keep the response's Secure session cookie (asserting it is Secure) for the next
    request: httpx, like a browser, keeps a Secure cookie off http://, and the test talks
    to the console as the proxy does, over HTTP (the browser's side is TLS)."""
    cookie = session_cookie(response)
    if cookie:
        assert "; secure" in cookie.lower()
        name, value = cookie.split(";")[0].split("=", 1)
        browser.cookies.set(name, value)
    return response


def token_in(response: Any) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
    assert found, response.text[:500]
    return found.group(1)


# -- the reverse proxy's identity header


def test_the_identity_header_is_believed_only_from_a_trusted_proxy(
        sandbox: SandboxServer, tmp_path: Path) -> None:
    section = console_section(users=False, extra=(
        "identity_header: X-Forwarded-User\n"
        f"trusted_proxies: ['{PROXY[0]}']\n"
        "admins: [boss@example.com]\n"))
    with console_world(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/h.db",
                       deals=4, section=section) as world:
        context = world["context"]
        as_boss = {"X-Forwarded-User": "boss@example.com"}
        stranger = client(context, peer=("192.0.2.50", 5000))
        response = stranger.get("/audit", headers=as_boss, follow_redirects=False)
        assert response.status_code == 303  # ignored: to the login, as nobody
        local_forger = client(context, peer=("127.0.0.1", 5000))  # not in trusted_proxies
        assert local_forger.get("/audit", headers=as_boss,
                                follow_redirects=False).status_code == 303
        boss = client(context, peer=PROXY, headers=as_boss)
        page = boss.get("/audit")
        assert page.status_code == 200 and "boss@example.com · admin" in page.text
        token = csrf_of(boss, "/audit")
        assert boss.post(TEST_SAVE, data={"csrf_token": token}).status_code == 200
        pat = client(context, peer=PROXY, headers={"X-Forwarded-User": "Pat@Example.com"})
        assert "Pat@Example.com · viewer" in pat.get("/audit").text
        token = csrf_of(pat, "/audit")
        assert pat.post(TEST_SAVE, data={"csrf_token": token}).status_code == 403
        nobody = client(context, peer=PROXY)  # the proxy sent no user: nobody
        assert nobody.get("/audit", follow_redirects=False).status_code == 303


def test_trusted_proxies_must_be_addresses(tmp_path: Path) -> None:
    from handoff_sync.config.settings import ConsoleConfig

    with pytest.raises(ValueError, match="not an IP address or network"):
        ConsoleConfig.model_validate({"trusted_proxies": ["proxy.internal"]})
    assert ConsoleConfig.model_validate({"trusted_proxies": ["10.0.0.0/8", "::1"]})


# -- headers


def test_every_response_carries_the_security_headers(world: dict[str, Any]) -> None:
    admin = client(world["context"], ADMIN)
    anonymous = client(world["context"])
    responses = {
        "page": admin.get("/audit"), "login": anonymous.get("/login"),
        "redirect": anonymous.get("/audit", follow_redirects=False),
        "not found": admin.get("/no-such-page"),
        "csrf refusal": admin.post(TEST_SAVE, follow_redirects=False),
        "static": admin.get("/static/htmx.min.js"),
        "error page": admin.get("/test-only/refuse"),
    }
    for name, response in responses.items():
        headers = response.headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY, name
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "'unsafe-inline'" not in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY", name
        assert headers["x-content-type-options"] == "nosniff", name
        assert headers["referrer-policy"] == "same-origin", name
        if name == "static":
            assert headers.get("cache-control") != "no-store"
        else:
            assert headers["cache-control"] == "no-store", name
    assert responses["not found"].status_code == 404


def test_the_pages_have_no_inline_script_or_style(world: dict[str, Any]) -> None:
    """The CSP refuses inline script and style: a page that used them would break."""
    admin = client(world["context"], ADMIN)
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=|javascript:",
                        re.IGNORECASE)
    for page in [*get_pages(admin.app), "/login", "/no-such-page",  # type: ignore[arg-type]
                 "/test-only/refuse"]:
        text = (admin if page != "/login" else client(world["context"])).get(page).text
        assert not inline.search(text), (page, inline.search(text))


def test_no_template_has_inline_script_or_style() -> None:
    """Fragments too (htmx swaps them in): an inline handler or style in any template would
    be refused by the CSP; behaviour goes in static/console.js, looks in a stylesheet."""
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=|javascript:|"
                        r"hx-on|\bjs:", re.IGNORECASE)
    templates = Path(templating.__file__).with_name("templates")
    found = [f"{path.name}: {match.group(0)}" for path in sorted(templates.glob("*.html"))
             for match in inline.finditer(path.read_text(encoding="utf-8"))]
    assert found == []


# -- secrets


def test_no_page_or_error_shows_a_secret(world: dict[str, Any]) -> None:
    hashes = [user.password_hash for user in world["config"].console.users]
    secrets = [*hashes, SESSION_SECRET]
    known = redaction.known()
    assert all(secret in known for secret in secrets)  # registered for every output
    assert any(secret not in secrets for secret in known)  # the connections' too
    admin = client(world["context"], ADMIN)
    texts = [admin.get(page).text for page in get_pages(admin.app)]  # type: ignore[arg-type]
    refused = admin.get("/test-only/refuse", params={"what": hashes[0]})
    assert refused.status_code == 400 and "[redacted]" in refused.text
    texts.append(refused.text)
    for text in texts:
        for secret in known:
            assert secret not in text


def test_a_bug_shows_a_plain_page_and_logs_no_secret(world: dict[str, Any]) -> None:
    leaking = f"{world['config'].console.users[0].password_hash} {SESSION_SECRET}"
    connection_secret = max(redaction.known(), key=len)
    admin = client(world["context"], ADMIN)
    with structlog.testing.capture_logs() as logs:
        response = admin.get("/test-only/crash",
                             params={"what": f"{leaking} {connection_secret}"})
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "Traceback" not in response.text and "RuntimeError" not in response.text
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    [line] = [entry for entry in logs if entry["event"] == "console_request_failed"]
    assert line["path"] == "/test-only/crash" and line["error"] == "RuntimeError"
    assert "Traceback" in line["traceback"] and "[redacted]" in line["message"]
    logged = repr(line)
    for secret in (*leaking.split(), connection_secret):
        assert secret not in logged and secret not in response.text


# -- where it may listen


def test_a_non_loopback_bind_without_a_login_refuses_to_start(
        sandbox: SandboxServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with console_world(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/b.db",
                       deals=4, section=console_section(users=False)) as world:
        code = main(["console", "--config", str(world["config_file"]),
                     "--host", "0.0.0.0", "--port", "0"])
        err = capsys.readouterr().err
        assert code != 0
        assert "would listen on 0.0.0.0 with no login" in err and "console.users" in err


def test_a_console_without_a_login_answers_only_to_its_loopback_name(
        sandbox: SandboxServer, tmp_path: Path) -> None:
    """DNS rebinding: a web page whose name now points at 127.0.0.1 would be same-origin
    with the console, token and all; the Host it sends gives it away."""
    with console_world(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/r.db",
                       deals=4, section=console_section(users=False)) as world:
        for base in ("http://127.0.0.1:9465", "http://localhost:9465", "http://[::1]:9465"):
            local = TestClient(app_for(world["context"]), base_url=base)
            assert local.get("/audit").status_code == 200, base
        rebound = TestClient(app_for(world["context"]), base_url="http://evil.example:9465")
        response = rebound.get("/audit", follow_redirects=False)
        assert response.status_code == 403 and "only at localhost" in response.text
        assert rebound.post(TEST_SAVE, follow_redirects=False).status_code == 403
        assert rebound.get("/static/console.css").status_code == 200  # public files stay

