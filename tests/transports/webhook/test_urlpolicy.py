"""The webhook URL allow-list: patterns, and the refusal of private addresses behind wildcards."""

from __future__ import annotations

import ipaddress

import pytest

from asyncmcp_cli.errors import ConfigurationError
from asyncmcp_cli.transports.webhook.urlpolicy import UrlPolicy, WebhookUrlRefusedError, embedded_ipv4, is_public

pytestmark = pytest.mark.anyio


def resolving_to(*addresses: str):
    """A resolver standing in for DNS, so no test depends on (or leaks to) a real name server."""

    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


async def test_a_literally_named_loopback_host_is_allowed() -> None:
    policy = UrlPolicy(["http://127.0.0.1:*"])
    await policy.check("http://127.0.0.1:8123/webhook")
    assert policy.matches("http://127.0.0.1:1/x")


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://172.16.0.1/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",
        "https://[::1]/hook",
        "https://[fe80::1]/hook",
        "https://[fd00::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
    ],
)
async def test_wildcards_never_reach_private_loopback_or_link_local_addresses(url: str) -> None:
    with pytest.raises(WebhookUrlRefusedError, match="private, loopback or link-local"):
        await UrlPolicy(["https://*"]).check(url)


async def test_a_public_address_is_allowed_by_a_wildcard() -> None:
    await UrlPolicy(["https://*"]).check("https://93.184.216.34/hook")


async def test_a_name_is_judged_by_every_address_it_resolves_to() -> None:
    await UrlPolicy(["https://*.example.com"], resolver=resolving_to("93.184.216.34")).check(
        "https://hooks.example.com/x"
    )
    rebinding = UrlPolicy(["https://*.example.com"], resolver=resolving_to("93.184.216.34", "10.0.0.7"))
    with pytest.raises(WebhookUrlRefusedError, match=r"10\.0\.0\.7"):
        await rebinding.check("https://hooks.example.com/x")


async def test_a_name_that_does_not_resolve_is_refused() -> None:
    async def failing(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(WebhookUrlRefusedError, match="cannot resolve"):
        await UrlPolicy(["https://*"], resolver=failing).check("https://nowhere.invalid/")


async def test_localhost_behind_a_wildcard_is_refused() -> None:
    with pytest.raises(WebhookUrlRefusedError, match="loopback"):
        await UrlPolicy(["http://*:*"]).check("http://localhost:8000/webhook")


@pytest.mark.parametrize(
    ("patterns", "url"),
    [
        (["https://*"], "http://93.184.216.34/hook"),  # scheme
        (["https://*"], "https://93.184.216.34:8443/hook"),  # no port in the pattern: the default port only
        (["http://127.0.0.1:8000"], "http://127.0.0.1:8001/"),
        (["http://127.0.0.1:*"], "http://127.0.0.1.evil.example/"),  # a literal host is not a prefix
        (["https://hooks.example.com/mcp/*"], "https://hooks.example.com/other"),
        (["http://127.0.0.1:*"], "ftp://127.0.0.1/"),
        (["http://127.0.0.1:*"], "http://user@127.0.0.1:80/"),
        (["http://127.0.0.1:*"], "http:///no-host"),
        ([], "https://93.184.216.34/"),
    ],
)
async def test_urls_outside_the_patterns_are_refused(patterns: list[str], url: str) -> None:
    policy = UrlPolicy(patterns, resolver=resolving_to("93.184.216.34"))
    with pytest.raises(WebhookUrlRefusedError):
        await policy.check(url)
    assert not policy.matches(url)


async def test_ports_and_paths_match_as_written() -> None:
    policy = UrlPolicy(["https://hooks.example.com:8443/mcp/*", "http://[::1]:*"], resolver=resolving_to("1.1.1.1"))
    await policy.check("https://hooks.example.com:8443/mcp/replies")
    await policy.check("http://[::1]:9000/webhook")
    await policy.check("https://HOOKS.example.com:8443/mcp/x")


@pytest.mark.parametrize("pattern", ["127.0.0.1:*", "ftp://*", "https://", "https://host:port"])
def test_bad_patterns_are_configuration_errors(pattern: str) -> None:
    with pytest.raises(ConfigurationError):
        UrlPolicy([pattern])


def test_is_public() -> None:
    assert is_public("8.8.8.8")
    assert is_public("2606:4700:4700::1111")
    assert not is_public("127.0.0.53")
    assert not is_public("::ffff:10.0.0.1")


# IPv6 forms that lead to an IPv4 address, with the IPv4 address they lead to.
EMBEDDING = [
    ("::ffff:127.0.0.1", "127.0.0.1"),  # IPv4-mapped
    ("::ffff:a9fe:a9fe", "169.254.169.254"),
    ("::127.0.0.1", "127.0.0.1"),  # IPv4-compatible (deprecated)
    ("::10.0.0.1", "10.0.0.1"),
    ("2002:7f00:1::", "127.0.0.1"),  # 6to4
    ("2002:a9fe:a9fe::", "169.254.169.254"),
    ("2002:c0a8:101:1::1", "192.168.1.1"),
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "127.0.0.1"),  # Teredo: the client address, de-obfuscated
    ("2001:0:4136:e378:8000:63bf:5601:5656", "169.254.169.169"),
    ("64:ff9b::7f00:1", "127.0.0.1"),  # NAT64, well-known prefix
    ("64:ff9b::169.254.169.254", "169.254.169.254"),
    ("2606:4700::5efe:7f00:1", "127.0.0.1"),  # ISATAP interface id, under a global prefix
    ("2606:4700::200:5efe:a9fe:a9fe", "169.254.169.254"),
    ("fe80::5efe:a00:1", "10.0.0.1"),
]


@pytest.mark.parametrize(("ipv6", "ipv4"), EMBEDDING)
def test_the_ipv4_address_an_ipv6_form_leads_to(ipv6: str, ipv4: str) -> None:
    assert embedded_ipv4(ipaddress.IPv6Address(ipv6)) == ipaddress.IPv4Address(ipv4)


@pytest.mark.parametrize("ipv6", ["2606:4700:4700::1111", "::1", "::", "fe80::1", "2a00:1450:4001:800::200e"])
def test_ordinary_ipv6_addresses_embed_nothing(ipv6: str) -> None:
    assert embedded_ipv4(ipaddress.IPv6Address(ipv6)) is None


@pytest.mark.parametrize("ipv6", [*(ipv6 for ipv6, _ in EMBEDDING), "64:ff9b:1::808:808"])
async def test_wildcards_never_reach_a_private_ipv4_through_an_ipv6_form(ipv6: str) -> None:
    assert not is_public(ipv6)
    for pattern in ("http://*", "http://*:*"):
        policy = UrlPolicy([pattern])
        assert policy.matches(f"http://[{ipv6}]/hook")  # the pattern matches: it is the address that is refused
        with pytest.raises(WebhookUrlRefusedError, match="private, loopback or link-local"):
            await policy.check(f"http://[{ipv6}]/hook")


@pytest.mark.parametrize("ipv6", ["::ffff:8.8.8.8", "2606:4700::5efe:808:808"])
def test_ipv6_forms_of_public_ipv4_addresses_stay_public(ipv6: str) -> None:
    assert is_public(ipv6)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/web\nhook",  # urlsplit drops the newline: the URL checked is not the URL sent
        "http://127.0.0.1:8000/web\thook",
        "http://127.0.0.1:8000/webhook\x00",
        "http://127.0.0.1:8000/web hook",
        "http://127.0.0.1:8000/wébhook",
    ],
)
async def test_control_characters_and_spaces_are_refused(url: str) -> None:
    policy = UrlPolicy(["http://127.0.0.1:*/webhook"])
    with pytest.raises(WebhookUrlRefusedError, match="control") as refused:
        await policy.check(url)
    assert not policy.matches(url)
    assert str(refused.value).replace("é", "").isprintable()  # the URL is quoted escaped, never raw
