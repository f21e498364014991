"""Outbound HTTP: the one way the connectors and the feed reader reach another server.

Every request of every client library goes through ``OutboundAdapter``: tweepy, facebook-sdk and the
feed reader have it mounted on their ``requests.Session``; google-api-python-client gets
``OutboundHttp``, an ``httplib2.Http`` that sends through the same adapter. The policy:

- **Public addresses only.** The host is resolved when a connection opens, every address it resolves
  to is checked, and the socket connects to a checked address, so a DNS answer that changes between
  check and connect (rebinding) changes nothing. Loopback, private, shared, link-local, multicast,
  reserved and unspecified addresses, IPv4 or IPv6 (IPv4 inside IPv6 too: mapped, 6to4, Teredo,
  NAT64), are refused unless ``PRIVATE_NETWORK_ALLOWLIST`` lists the ``host:port``; cloud metadata
  addresses always are. The refusal comes before any packet is sent, with one message, so polling
  never tells an open port from a closed one.
- **Redirects.** Platform APIs never redirect, so a redirect from one is refused (a secret in a header
  stays with the host it was entered for); the feed reader follows at most ``MAX_REDIRECTS``, each
  hop checked like the first.
- **Limits.** ``HTTP_TIMEOUT_SECONDS`` to connect, as long for the answer to start and as long for the
  whole body, of which at most ``MAX_RESPONSE_BYTES`` (after decompression) is read.
- **Host rewriting.** Client libraries that hard-code their platform's host (tweepy, facebook-sdk) are
  pointed at a channel's ``api_base_url`` (an API gateway, or the local sandbox): the official scheme
  and host are swapped for the base URL, the path and query kept as the library built them.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import sys
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus, urlsplit

import httplib2
import requests
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from requests.utils import select_proxy
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import (
    ConnectTimeoutError,
    DecodeError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.util import connection as urllib3_connection

from listening.connectors.base import ConnectorError

if TYPE_CHECKING:
    from listening.models import Channel

MAX_RESPONSE_BYTES = 10 * 1024 * 1024  # a page of 100 items is well under 1 MB; a big feed a few MB
MAX_REDIRECTS = 5
READ_CHUNK = 64 * 1024
DEFAULT_PORTS = {"http": 80, "https": 443}

# Cloud metadata services: never a platform, always a way to a server's own credentials.
# AWS/GCP/Azure/OpenStack, AWS ECS tasks, AWS over IPv6, Alibaba, Oracle, Azure's wire server.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",
        "169.254.170.2",
        "fd00:ec2::254",
        "100.100.100.200",
        "192.0.0.192",
        "168.63.129.16",
    )
)
NAT64_PREFIXES = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class OutboundRefused(ConnectorError):
    """The policy refuses this destination: a person must change the address or the allowlist."""

    def __init__(self, message: str):
        super().__init__(message, permanent=True)


def http_timeout() -> float:
    return float(settings.HTTP_TIMEOUT_SECONDS)


# --- Which addresses may be reached ---------------------------------------------------------------
def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo client, NAT64), if any."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if any(ip in prefix for prefix in NAT64_PREFIXES):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_metadata_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    embedded = _embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
    return ip in METADATA_ADDRESSES or embedded in METADATA_ADDRESSES


def is_public_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for an address on the public internet that is not a cloud metadata service."""
    if is_metadata_address(ip):
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return is_public_address(embedded)
        if ip.is_site_local:
            return False
    # Python 3.11's IPv6 is_global is "not private" only: reserved and multicast are checked too.
    return ip.is_global and not (
        ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local or ip.is_unspecified
    )


def _host_port(host: str, port: int) -> str:
    host = host.strip("[]").lower()
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _allowlisted(names: Iterable[str], port: int) -> bool:
    allowed = {entry.strip().lower() for entry in settings.PRIVATE_NETWORK_ALLOWLIST}
    return any(_host_port(name, port) in allowed for name in names)


def _refusal(host: str, port: int, addresses: Iterable[str]) -> str:
    """Why ``host:port`` may not be reached at these resolved addresses; "" when it may.

    The message names the host as given, never what it resolved to.
    """
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone ("fe80::1%eth0") is not part of it
        if is_metadata_address(ip):
            return _("%(address)s is a cloud metadata address; Escucha never connects to it.") % {
                "address": _host_port(host, port)
            }
        if not is_public_address(ip) and not _allowlisted((host, address), port):
            return _(
                "%(address)s is on a private network; Escucha connects there only when the "
                "PRIVATE_NETWORK_ALLOWLIST setting lists it."
            ) % {"address": _host_port(host, port)}
    return ""


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host.strip("[]"), port, urllib3_connection.allowed_gai_family(), socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def destination_refusal(url: str) -> str:
    """Why the policy would refuse ``url``, for a form or the API to say at save time; "" when it
    would not, or when that cannot be known yet (the name does not resolve from here)."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port or DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return ""
    if not host or not port:
        return ""
    try:
        return _refusal(host, port, _resolve(host, port))
    except (OSError, UnicodeError):
        return ""


class _CheckedConnectionMixin:
    """Opens the socket only to checked addresses of the host (the proxy's, when there is one).

    Mixed into urllib3's connection classes in place of their ``_new_conn``, which resolves and
    connects in one step: here the addresses are checked between the two.
    """

    def _new_conn(self: Any) -> socket.socket:
        try:
            addresses = _resolve(self.host, self.port)
        except (socket.gaierror, UnicodeError) as error:
            raise NameResolutionError(self.host, self, error) from error  # type: ignore[arg-type]
        refusal = _refusal(self.host, self.port, addresses)
        if refusal:
            raise OutboundRefused(refusal)
        last_error: OSError | None = None
        for address in addresses:
            try:
                sock = urllib3_connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as error:
                raise ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
                ) from error
            except OSError as error:
                last_error = error
                continue
            sys.audit("http.client.connect", self, self.host, self.port)
            return sock
        raise NewConnectionError(self, f"Failed to establish a new connection: {last_error}")  # type: ignore[arg-type]


class CheckedHTTPConnection(_CheckedConnectionMixin, HTTPConnection):
    pass


class CheckedHTTPSConnection(_CheckedConnectionMixin, HTTPSConnection):
    pass


class CheckedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = CheckedHTTPConnection


class CheckedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = CheckedHTTPSConnection


CHECKED_POOLS = {"http": CheckedHTTPConnectionPool, "https": CheckedHTTPSConnectionPool}


# --- The adapter every session sends through --------------------------------------------------------
class OutboundAdapter(HTTPAdapter):
    """Sends requests under the policy above; requests for ``official_hosts`` go to ``base_url``."""

    def __init__(self, base_url: str = "", official_hosts: Iterable[str] = (), *, follow_redirects: bool = False):
        self.base_url = base_url.rstrip("/")
        self.official_hosts = tuple(host.rstrip("/") for host in official_hosts)
        self.follow_redirects = follow_redirects
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = CHECKED_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = CHECKED_POOLS  # the connection to the proxy is checked
        return manager

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        url = request.url or ""
        if self.base_url:
            for host in self.official_hosts:
                if url.startswith(host + "/") or url == host:
                    request.url = url = self.base_url + url[len(host) :]
                    break
        if select_proxy(url, proxies):
            # The proxy connects for us: what it is asked to reach is checked here.
            refusal = destination_refusal(url)
            if refusal:
                raise OutboundRefused(refusal)
        # Always streamed: the body is read below, within the limits, whatever the caller asked.
        response = super().send(
            request,
            stream=True,
            timeout=http_timeout() if timeout is None else timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )
        parts = urlsplit(url)  # named by host and port only: a user:password in the URL stays out
        host = _host_port(parts.hostname or "", parts.port or DEFAULT_PORTS.get(parts.scheme, 0))
        if response.is_redirect and not self.follow_redirects:
            response.close()
            raise OutboundRefused(
                _("%(host)s answered with a redirect; calls to a platform's API do not follow redirects.")
                % {"host": host}
            )
        _read_body(response, host)
        return response


def _read_body(response: requests.Response, host: str) -> None:
    """Read the whole body into ``response`` (as ``requests`` does unless streaming), within the limits."""
    limit_message = _("%(host)s sent more than %(size)s; Escucha reads at most that.") % {
        "host": host,
        "size": filesizeformat(MAX_RESPONSE_BYTES),
    }
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
        response.close()
        raise ConnectorError(limit_message)
    deadline = time.monotonic() + http_timeout()
    body = bytearray()
    try:
        while chunk := response.raw.read1(READ_CHUNK, decode_content=True):
            body += chunk
            if len(body) > MAX_RESPONSE_BYTES:
                response.close()
                raise ConnectorError(limit_message)
            if time.monotonic() > deadline:
                # A server that sends a trickle never trips the read timeout; this does.
                response.close()
                raise ConnectorError(_("%(host)s took too long to send its answer.") % {"host": host})
    except ProtocolError as error:
        raise requests.exceptions.ChunkedEncodingError(error) from error
    except DecodeError as error:
        raise requests.exceptions.ContentDecodingError(error) from error
    except ReadTimeoutError as error:
        raise requests.exceptions.ConnectionError(error) from error
    response._content = bytes(body)
    response._content_consumed = True


def mount_outbound(
    session: requests.Session, base_url: str = "", official_hosts: Iterable[str] = (), *, follow_redirects: bool = False
) -> requests.Session:
    """Put every request of ``session`` under the outbound policy."""
    adapter = OutboundAdapter(base_url, official_hosts, follow_redirects=follow_redirects)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.max_redirects = MAX_REDIRECTS
    return session


class OutboundHttp(httplib2.Http):
    """httplib2's interface, as google-api-python-client and google-auth-httplib2 call it, sent through
    the outbound policy. ``headers`` go with every request (e.g. an API key)."""

    def __init__(self, headers: dict[str, str] | None = None):
        super().__init__(timeout=http_timeout())
        self.follow_redirects = False
        self.session = mount_outbound(requests.Session())
        self.session.headers.update(headers or {})

    def request(  # type: ignore[override]
        self,
        uri: str,
        method: str = "GET",
        body: Any = None,
        headers: dict[str, str] | None = None,
        redirections: int = 0,
        connection_type: Any = None,
    ) -> tuple[httplib2.Response, bytes]:
        if isinstance(body, str):
            body = body.encode()
        response = self.session.request(
            method, uri, data=body, headers=headers, allow_redirects=False, timeout=http_timeout()
        )
        info = {key.lower(): value for key, value in response.headers.items()}
        info.pop("content-encoding", None)  # the content is already decoded
        info["status"] = str(response.status_code)
        result = httplib2.Response(info)
        result.reason = response.reason
        return result, response.content

    def close(self) -> None:
        self.session.close()
        super().close()


# --- What is stored and shown of an error -------------------------------------------------------------
_QUERY = re.compile(r"((?:\b[a-z][a-z0-9+.-]*://|/)[^\s?#'\"<>]*)\?[^\s'\"<>)\]]+", re.IGNORECASE)
_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/\s@'\"<>]+@", re.IGNORECASE)
HIDDEN = "[hidden]"


def scrub_error(message: object, *, channel: Channel) -> str:
    """An error's text as it may be stored and shown: URLs lose their query string and user:password,
    and every credential of ``channel`` is hidden, as typed or URL-encoded.

    Client libraries put the request's URL, and some servers the request itself, in their errors;
    the channel's page and API show ``last_error`` to everyone who may view channels.
    """
    text = _USERINFO.sub(r"\1", str(message))
    text = _QUERY.sub(r"\1?…", text)
    secrets = {str(value) for value in (channel.credentials or {}).values() if value}
    for secret in sorted(secrets, key=len, reverse=True):  # a secret inside a longer one goes with it
        for form in dict.fromkeys((secret, quote(secret, safe=""), quote_plus(secret))):
            text = text.replace(form, HIDDEN)
    return text


# --- Small helpers the connectors share -----------------------------------------------------------
def safe_url(url: str | None) -> str:
    """``url`` if it is an http(s) link, else "" (no javascript:, data: … links ever reach a page)."""
    url = (url or "").strip()
    try:
        scheme = urlsplit(url).scheme.lower() if url else ""
    except ValueError:  # e.g. "http://[": a stranger's URL that does not even parse
        return ""
    return url if scheme in ("http", "https") else ""


def unique_items(items: list[Any]) -> list[Any]:
    """Items in order, each platform id once (endpoints and edges overlap)."""
    seen: set[str] = set()
    kept = []
    for item in items:
        if item.external_id not in seen:
            seen.add(item.external_id)
            kept.append(item)
    return kept
