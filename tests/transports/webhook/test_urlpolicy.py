"""The webhook URL allow-list: patterns, and the refusal of private addresses behind wildcards."""

from __future__ import annotations

import pytest

from asyncmcp_cli.errors import ConfigurationError
from asyncmcp_cli.transports.webhook.urlpolicy import UrlPolicy, WebhookUrlRefusedError, is_public

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
