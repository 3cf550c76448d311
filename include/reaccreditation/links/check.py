"""Check web links as an assessor's browser would: https only, TLS verified, redirects followed, time-limited.

Each link ends as ``working`` (a 2xx answer after at most ``MAX_REDIRECTS`` redirects), ``broken`` (an error
status, a redirect loop, a timeout, a TLS or connection failure: the detail says which, in words), or
``not_checked`` (a host the organisation lists as internal, a reserved example name that can never resolve,
or not a web link at all). HEAD first, then GET when a server refuses HEAD. At most ``concurrency`` at once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_REDIRECTS = 10
# RFC 2606 / 6761: names that exist in examples only and never on the internet
RESERVED_SUFFIXES = (".example", ".test", ".invalid", ".localhost", "example.com", "example.net", "example.org")


@dataclass(frozen=True)
class LinkResult:
    url: str
    status: str  # working | broken | not_checked
    detail: str  # e.g. "200 OK", "404 Not Found", "timed out after 10 s", "internal host"
    http_status: int | None = None


def _host_in(host: str, suffixes: tuple[str, ...]) -> bool:
    return any(host == s.lower().lstrip(".") or host.endswith("." + s.lower().lstrip(".")) for s in suffixes)


def triage(url: str, internal_hosts: tuple[str, ...]) -> LinkResult | None:
    """The result without asking the network, or None when the link must be fetched."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() != "https" or not host:
        return LinkResult(url, "not_checked", "not an https link")
    if _host_in(host, internal_hosts):
        return LinkResult(url, "not_checked", "internal host: only reachable inside the organisation")
    if _host_in(host, RESERVED_SUFFIXES):
        return LinkResult(url, "not_checked", "example address: not a real web site")
    return None


async def _fetch(client, url: str, timeout: float) -> LinkResult:  # type: ignore[no-untyped-def]
    import httpx

    try:
        response = await client.head(url)
        if response.status_code in (403, 405, 501):  # some servers refuse HEAD: ask as a browser does
            response = await client.get(url)
    except httpx.TooManyRedirects:
        return LinkResult(url, "broken", f"redirects more than {MAX_REDIRECTS} times (a redirect loop)")
    except httpx.TimeoutException:
        return LinkResult(url, "broken", f"no answer within {timeout:g} s")
    except httpx.ConnectError as exc:
        text = str(exc)
        if "CERTIFICATE" in text.upper() or "SSL" in text.upper():
            return LinkResult(url, "broken", "the site's security certificate is not valid")
        return LinkResult(url, "broken", "the site could not be reached")
    except httpx.HTTPError as exc:
        return LinkResult(url, "broken", f"the site could not be read ({type(exc).__name__})")
    phrase = response.reason_phrase or ""
    detail = f"{response.status_code} {phrase}".strip()
    return LinkResult(url, "working" if response.is_success else "broken", detail, response.status_code)


async def check_all(
    urls: list[str], *, internal_hosts: tuple[str, ...] = (), timeout: float = 10.0, concurrency: int = 8, verify: object = True
) -> dict[str, LinkResult]:
    """Every distinct link's result; ``verify`` is httpx's (True, or an ssl context trusting a test CA)."""
    results: dict[str, LinkResult] = {}
    todo = []
    for url in dict.fromkeys(urls):
        known = triage(url, internal_hosts)
        if known is not None:
            results[url] = known
        else:
            todo.append(url)
    if not todo:
        return results
    import httpx  # only when something must be fetched (~0.2 s)

    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        timeout=httpx.Timeout(timeout),
        verify=verify,  # type: ignore[arg-type]
        headers={"User-Agent": "reaccreditation-link-check/1"},
        limits=httpx.Limits(max_connections=concurrency),
    ) as client:

        async def one(url: str) -> None:
            async with gate:
                try:  # httpx's timeout is per read: a server trickling bytes is cut off here
                    results[url] = await asyncio.wait_for(_fetch(client, url, timeout), timeout * 3)
                except TimeoutError:
                    results[url] = LinkResult(url, "broken", f"no answer within {timeout:g} s")

        await asyncio.gather(*(one(u) for u in todo))
    return results


def check(urls: list[str], **options: object) -> dict[str, LinkResult]:
    """``check_all`` from synchronous code (a task, the intake sweep)."""
    return asyncio.run(check_all(urls, **options))  # type: ignore[arg-type]
