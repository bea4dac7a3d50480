"""The checks of Django's settings against the hosts the record and WS_PUBLIC_URL name: the
integration Host, the page's Origin, CSRF, the session cookie and the WebSocket URL.

The package (4.1, ``WebSocketView``) compares the Host header of a call exactly with
ALLOWED_HOSTS (no wildcard, port included when not the scheme's default), and on ``$connect``
requires the Origin's host to be the Host or a subdomain of it, with the same port. API
Gateway sends the integration URL's host as Host; the browser sends the page's origin as
Origin and the session cookie only to hosts the cookie covers.
"""

from urllib.parse import urlsplit

from botocore.exceptions import ClientError
from django.conf import settings
from django.http.request import split_domain_port, validate_host

from doctor.aws_checks import custom_domain_url, expected_routes
from doctor.context import Context, normal_name
from doctor.findings import Failed

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# Browsers treat these as secure contexts: Secure cookies reach ws://localhost too.
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def host_header(url: str) -> str:
    """The Host header of a request to ``url``: its host, and its port unless the default."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    return f"{host}:{port}" if port and port != _DEFAULT_PORTS.get(parts.scheme) else host


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def page_origins(ctx: Context) -> tuple[list[str], str]:
    """The origins browsers load the page from, and where that comes from: CSRF_TRUSTED_ORIGINS,
    else the integration URL's own origin (the page and the callbacks on one host, as in the
    example values and the compose stack)."""
    if settings.CSRF_TRUSTED_ORIGINS:
        return list(settings.CSRF_TRUSTED_ORIGINS), "CSRF_TRUSTED_ORIGINS"
    return [_origin(ctx.record.target_base_endpoint or "")], "the integration URL's origin"


def origin_fits_host(origin: str, host: str) -> bool:
    """The package's $connect rule: the Origin's host is the Host or a subdomain of it, and the
    ports agree (no port: the scheme's default)."""
    page, target = urlsplit(origin), urlsplit(f"//{host}")
    if page.scheme not in ("http", "https") or not page.hostname or not target.hostname:
        return False
    default = _DEFAULT_PORTS[page.scheme]
    if (page.port or default) != (target.port or default):
        return False
    return page.hostname == target.hostname or page.hostname.endswith(f".{target.hostname}")


def check_integration_host(ctx: Context) -> str:
    urls = sorted(set(expected_routes(ctx.record).values()))
    hosts = sorted({host_header(url) for url in urls})
    problems = [
        f"{host!r} is not in ALLOWED_HOSTS {settings.ALLOWED_HOSTS}: every call to it is "
        "refused (ws.connect.rejected, reason host_not_allowed)"
        for host in hosts
        if host not in settings.ALLOWED_HOSTS
    ]
    if settings.PRODUCTION:
        problems += [f"{url} is not https" for url in urls if urlsplit(url).scheme != "https"]
    if problems:
        raise Failed(
            "; ".join(problems),
            "each integration URL's Host exactly in ALLOWED_HOSTS (the package compares the whole "
            "Host, port included, no wildcards); https in production",
            f"set WS_INTEGRATION_HOST={hosts[0]} (config.integrationHost; settings add it to "
            "ALLOWED_HOSTS), or point the record's target_base_endpoint at the host Django "
            "serves; production integrations use https://",
        )
    return f"API Gateway calls with Host {', '.join(hosts)}, each in ALLOWED_HOSTS"


def check_page_origin(ctx: Context) -> str:
    host = host_header(ctx.record.target_base_endpoint or "")
    origins, source = page_origins(ctx)
    refused = [origin for origin in origins if not origin_fits_host(origin, host)]
    if refused:
        raise Failed(
            f"page origin {', '.join(refused)} ({source}) against Host {host}: every $connect "
            "from it is refused 'Invalid origin' (ws.connect.rejected, reason origin_mismatch)",
            f"the page served from {host} or a subdomain of it, on the same port",
            "serve the page from the integration host (or a subdomain), or point "
            "target_base_endpoint and WS_INTEGRATION_HOST at the page's parent domain",
        )
    return (
        f"page origin {', '.join(origins)} ({source}) passes $connect's Origin check for Host "
        f"{host}"
    )


def check_csrf(ctx: Context) -> str:
    trusted = list(settings.CSRF_TRUSTED_ORIGINS)
    if not trusted:
        return "none trusted: the token POST comes from the page's own origin, as the demo's does"
    problems = []
    for origin in trusted:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problems.append(f"{origin!r} is not scheme://host")
            continue
        if settings.PRODUCTION and parts.scheme != "https":
            problems.append(f"{origin} is not https (the cookies are Secure in production)")
        domain, _port = split_domain_port(parts.netloc)
        if not validate_host(domain, settings.ALLOWED_HOSTS):
            problems.append(f"{parts.netloc} is not in ALLOWED_HOSTS: Django does not serve it")
    if problems:
        raise Failed(
            "; ".join(problems) + ": the token POST is refused (ws.token.refused, 403)",
            "https://<page host> entries for hosts Django serves",
            "set CSRF_TRUSTED_ORIGINS (config.csrfTrustedOrigins) to the page's origins, e.g. "
            "https://app.example.com",
        )
    return f"{', '.join(trusted)}: well-formed, served by Django"


def _covers(cookie_domain: str | None, page_host: str, host: str) -> bool:
    """Whether the browser sends a session cookie set on ``page_host`` to ``host`` (ports do
    not matter to cookies)."""
    if not cookie_domain:
        return normal_name(host) == normal_name(page_host)
    domain = normal_name(cookie_domain).lstrip(".")
    host = normal_name(host)
    return host == domain or host.endswith(f".{domain}")


def check_cookies(ctx: Context) -> str:
    ws_url = urlsplit(settings.WS_PUBLIC_URL)
    ws_host = ws_url.hostname or ""
    domain = settings.SESSION_COOKIE_DOMAIN
    page_hosts = [urlsplit(origin).hostname or "" for origin in page_origins(ctx)[0]]
    problems = []
    for page_host in page_hosts:
        for host in (page_host, ws_host):
            if not _covers(domain, page_host, host):
                problems.append(
                    f"a session cookie set by {page_host} with SESSION_COOKIE_DOMAIN={domain} "
                    f"never reaches {host}"
                )
    secure, same_site = settings.SESSION_COOKIE_SECURE, settings.SESSION_COOKIE_SAMESITE
    if secure and ws_url.scheme == "ws" and ws_host not in _LOOPBACK:
        problems.append(
            f"the cookie is Secure but WS_PUBLIC_URL is ws://: it is not sent to {ws_host}"
        )
    if str(same_site).lower() == "none" and not secure:
        problems.append("SameSite=None without Secure: browsers drop the cookie")
    if problems:
        raise Failed(
            "; ".join(dict.fromkeys(problems)) + ": $connect finds no session (ws.token.invalid, "
            "reason no_session)",
            f"the session cookie sent to the page's host and to {ws_host}",
            "set SESSION_COOKIE_DOMAIN (config.sessionCookieDomain) to the parent of both hosts, "
            "e.g. .example.com for app.example.com and ws.example.com; browsers never send it to "
            "*.execute-api.amazonaws.com, so production needs a custom domain beside the page",
        )
    scope = f"domain {domain}" if domain else f"host-only for {', '.join(page_hosts)}"
    return (
        f"session cookie ({scope}, Secure={secure}, SameSite={same_site}) reaches the page and "
        f"{ws_host}"
    )


def check_ws_public_url(ctx: Context) -> str:
    record = ctx.record
    url = settings.WS_PUBLIC_URL.rstrip("/")
    if ctx.emulated:
        path = urlsplit(url).path
        if path != f"/{record.stage_name}":
            raise Failed(
                f"WS_PUBLIC_URL {url} opens {path or '/'}",
                f"the record's stage /{record.stage_name}, which the emulator serves "
                "(EMULATOR_STAGE)",
                f"set WS_PUBLIC_URL to ws://<emulator host:port>/{record.stage_name}, or "
                "EMULATOR_STAGE and the record's stage to the same name",
            )
        return f"{url} (the emulator's stage {record.stage_name})"
    candidates = {
        f"wss://{record.api_id}.execute-api.{ctx.region}.amazonaws.com/{record.stage_name}": (
            "the stage URL"
        )
    }
    if record.domain_name:
        try:
            mappings = ctx.own_mappings()
        except ClientError:
            # The mapping check reports why; the package maps the domain without a path.
            mappings = [{}]
        for mapping in mappings:
            candidates[custom_domain_url(record.domain_name, mapping)] = "the custom domain"
    parts = urlsplit(url)
    normalised = f"{parts.scheme}://{normal_name(parts.netloc)}{parts.path}"
    if normalised in candidates:
        return f"{url} ({candidates[normalised]})"
    preferred = next(reversed(candidates))
    raise Failed(
        f"WS_PUBLIC_URL {url}",
        " or ".join(f"{candidate} ({what})" for candidate, what in candidates.items()),
        f"set WS_PUBLIC_URL (config.wsPublicUrl) to {preferred}",
    )
