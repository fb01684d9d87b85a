"""The SSRF guard: which endpoint URLs may be saved, and which addresses a delivery may reach."""

from __future__ import annotations

import ipaddress
from typing import Annotated

import pytest
from pydantic import AfterValidator, TypeAdapter, ValidationError

from app.settings import get_settings
from app.webhooks import addresses
from app.webhooks.addresses import AddressRefused, check_url, checked_addresses, is_public

PRIVATE_URLS = [
    "http://127.1",
    "http://127.0.0.1:8080/hooks",
    "http://2130706433",
    "http://0x7f.1",
    "http://0x7f.0.0.1",
    "http://0177.0.0.1",  # httpx cannot send there: refused even with private networks allowed
    "http://%31%32%37.0.0.1/",
    "http://127.0.0.1./",
    "http://169.254.169.254/latest/meta-data",
    "http://10.0.0.5",
    "http://10.1",
    "http://172.16.0.1",
    "http://192.168.1.1",
    "http://100.64.0.1",
    "http://0.0.0.0",
    "http://0",
    "http://224.0.0.1",
    "http://255.255.255.255",
    "http://192.0.2.1",
    "http://198.18.0.1",
    "http://[::1]",
    "http://[::]",
    "http://[::ffff:127.0.0.1]",
    "http://[::ffff:7f00:1]",
    "http://[::ffff:169.254.169.254]",
    "http://[64:ff9b::a00:5]",
    "http://[64:ff9b:1::808:808]",
    "http://[2002:a00:1::1]",
    "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]",
    "http://[fe80::1%25eth0]",
    "http://[fc00::1]",
    "http://[fd12:3456::1]",
    "http://[ff02::1]",
    "http://[2001:db8::1]",
    "http://localhost",
    "http://LOCALHOST.:8000",
    "http://foo.localhost",
    "http://printer.local",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://router.home.arpa",
    "http://intranet",
]


@pytest.fixture
def private_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # The suite allows private networks (its receivers are on loopback); these tests must not.
    monkeypatch.setattr(get_settings(), "webhook_allow_private_networks", False)


@pytest.fixture
def private_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "webhook_allow_private_networks", True)


@pytest.mark.usefixtures("private_refused")
class TestCheckUrl:
    @pytest.mark.parametrize("url", PRIVATE_URLS)
    def test_refuses_private_addresses_and_local_names(self, url: str) -> None:
        with pytest.raises(AddressRefused, match="set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true"):
            check_url(url)

    @pytest.mark.parametrize(
        ("url", "reason"),
        [
            ("http://user:secret@example.com/hooks", "user name or password"),
            ("https://token@example.com/hooks", "user name or password"),
            ("ftp://example.com/hooks", "absolute http or https URL"),
            ("file:///etc/passwd", "absolute http or https URL"),
            ("gopher://example.com:70/", "absolute http or https URL"),
            ("/hooks", "absolute http or https URL"),
            ("example.com/hooks", "absolute http or https URL"),
            ("http://1.2.3.4.5/", "not a valid IPv4 address"),
            ("http://08.0.0.1/", "not a valid IPv4 address"),
            ("http://4294967296/", "not a valid IPv4 address"),
            ("http://exa mple.com/", "not a valid host name"),
            ("http://example.com:0/", "port between 1 and 65535"),
            ("http://[::ffff:127.1]/", "not a valid"),
        ],
    )
    def test_refuses_urls_of_other_shapes(self, url: str, reason: str) -> None:
        with pytest.raises(ValueError, match=reason) as refused:
            check_url(url)
        assert "WEBHOOK_ALLOW_PRIVATE_NETWORKS" not in str(refused.value)

    @pytest.mark.parametrize(
        "url",
        [
            "https://93.184.216.34/x",
            "http://8.8.8.8:8080/hooks",
            "https://[2606:4700:4700::1111]/hooks",
            "https://[::ffff:8.8.8.8]/hooks",
            "https://[64:ff9b::808:808]/hooks",
            "https://hooks.example.com/rouptimize?key=1",
            "https://hooks.example.com./x",
            "https://bücher.example/x",
            "https://my_host.example.com:8443/x",
        ],
    )
    def test_accepts_public_addresses_and_names(self, url: str) -> None:
        assert check_url(url) == url

    def test_production_requires_https(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(get_settings(), "environment", "production")
        with pytest.raises(AddressRefused, match="must use https"):
            check_url("http://hooks.example.com/x")
        assert check_url("https://hooks.example.com/x") == "https://hooks.example.com/x"

    def test_works_as_a_pydantic_validator(self) -> None:
        adapter = TypeAdapter(Annotated[str, AfterValidator(check_url)])
        with pytest.raises(ValidationError, match="WEBHOOK_ALLOW_PRIVATE_NETWORKS"):
            adapter.validate_python("http://2130706433/")
        assert adapter.validate_python("https://hooks.example.com/x") == "https://hooks.example.com/x"


@pytest.mark.usefixtures("private_allowed")
class TestCheckUrlAllowingPrivateNetworks:
    @pytest.mark.parametrize("url", [url for url in PRIVATE_URLS if "0177" not in url])
    def test_lifts_the_address_rule(self, url: str) -> None:
        assert check_url(url) == url

    def test_an_address_the_sender_cannot_parse_stays_refused(self) -> None:
        with pytest.raises(AddressRefused, match="not a valid URL"):
            check_url("http://0177.0.0.1")

    def test_keeps_the_other_rules(self) -> None:
        with pytest.raises(AddressRefused, match="user name or password"):
            check_url("http://user:pw@127.0.0.1/")
        with pytest.raises(AddressRefused, match="absolute http or https URL"):
            check_url("file:///etc/passwd")


class TestIsPublic:
    @pytest.mark.parametrize(
        "address",
        [
            "8.8.8.8",
            "93.184.216.34",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
            "2002:808:808::1",
        ],
    )
    def test_public(self, address: str) -> None:
        assert is_public(ipaddress.ip_address(address))

    @pytest.mark.parametrize(
        "address",
        [
            "127.0.0.1",
            "10.0.0.5",
            "100.64.0.1",
            "169.254.169.254",
            "224.0.0.1",
            "240.0.0.1",
            "203.0.113.7",
            "::",
            "::1",
            "::8.8.8.8",  # IPv4-compatible: deprecated, refused whatever it embeds
            "::ffff:10.0.0.5",
            "64:ff9b::7f00:1",
            "64:ff9b:1::808:808",
            "2002:7f00:1::1",
            "2001::1",
            "fe80::1",
            "fec0::1",
            "fd00::1",
            "ff0e::1",
            "2001:db8::1",
            "3fff::1",
            "2606:4700:4700::1111%eth0",
        ],
    )
    def test_not_public(self, address: str) -> None:
        assert not is_public(ipaddress.ip_address(address))


def _answers(monkeypatch: pytest.MonkeyPatch, *found: str) -> list[str]:
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return list(found)

    monkeypatch.setattr(addresses, "resolve", resolve)
    return asked


@pytest.mark.usefixtures("private_refused")
class TestCheckedAddresses:
    async def test_a_public_name_gives_its_addresses(self, monkeypatch: pytest.MonkeyPatch) -> None:
        _answers(monkeypatch, "93.184.216.34", "2606:2800:220:1::1")
        assert await checked_addresses("hooks.example.com", 443) == ["93.184.216.34", "2606:2800:220:1::1"]

    async def test_one_private_answer_refuses_the_name(self, monkeypatch: pytest.MonkeyPatch) -> None:
        _answers(monkeypatch, "93.184.216.34", "10.0.0.5")
        with pytest.raises(AddressRefused, match=r"hooks\.example\.com resolves to 10\.0\.0\.5"):
            await checked_addresses("hooks.example.com", 443)

    async def test_no_answer_is_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        _answers(monkeypatch)
        with pytest.raises(AddressRefused, match="does not resolve"):
            await checked_addresses("hooks.example.com", 443)

    @pytest.mark.parametrize("host", ["127.1", "2130706433", "0x7f.0.0.1", "::ffff:7f00:1", "localhost"])
    async def test_literals_and_local_names_are_not_resolved(
        self, monkeypatch: pytest.MonkeyPatch, host: str
    ) -> None:
        asked = _answers(monkeypatch, "93.184.216.34")
        with pytest.raises(AddressRefused, match="WEBHOOK_ALLOW_PRIVATE_NETWORKS"):
            await checked_addresses(host, 80)
        assert asked == []

    async def test_a_public_literal_is_itself(self, monkeypatch: pytest.MonkeyPatch) -> None:
        asked = _answers(monkeypatch)
        assert await checked_addresses("0x5db8d822", 443) == ["93.184.216.34"]
        assert asked == []

    async def test_allowing_private_networks(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(get_settings(), "webhook_allow_private_networks", True)
        _answers(monkeypatch, "127.0.0.1")
        assert await checked_addresses("receiver.test", 80) == ["127.0.0.1"]
        assert await checked_addresses("127.1", 80) == ["127.0.0.1"]


async def test_resolve_asks_the_system_resolver() -> None:
    assert "127.0.0.1" in await addresses.resolve("127.0.0.1", 80)
