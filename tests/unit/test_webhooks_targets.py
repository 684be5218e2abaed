"""Where a webhook may send (no database): http(s) URLs with a host only; private, loopback, link-local,
reserved and multicast addresses refused unless allowed; a delivery connects to the very address it
checked (its name resolved once, the Host header and TLS server name kept), so a name that resolves to
a private address at delivery time (DNS rebinding) is refused then; the event policy as data."""

from __future__ import annotations

import ipaddress

import pytest

from leadflow.core.errors import ValidationFailed
from leadflow.webhooks import targets
from leadflow.webhooks.events import EVENT_NAMES, RULES, events_of
from leadflow.webhooks.targets import RefusedTarget, check_target, delivery_target, is_private


@pytest.mark.parametrize(
    "url",
    ["ftp://x", "javascript:alert(1)", "http://", "https:///path", "mailto:a@b.c", "http://a b", "http://x:99999/", ""],
)
def test_anything_but_http_with_a_host_is_refused(url: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_target(url, allow_private=True)
    assert refused.value.code == "invalid_url"
    assert refused.value.details["fields"][0]["field"] == "url"


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.0.1", "169.254.169.254", "0.0.0.0", "224.0.0.1", "::1",
     "fe80::1", "fc00::1", "::ffff:127.0.0.1", "100.64.0.1", "198.18.0.1", "240.0.0.1"],
)  # fmt: skip
def test_private_addresses_are_private(address: str) -> None:
    assert is_private(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_not(address: str) -> None:
    assert not is_private(ipaddress.ip_address(address))


def test_a_name_is_resolved_and_the_delivery_pinned_to_the_address_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(targets, "resolve", lambda host, port: [ipaddress.ip_address("93.184.215.14")])
    target = delivery_target("https://hooks.example.com:8443/in?x=1", allow_private=False)
    assert target.url == "https://93.184.215.14:8443/in?x=1"
    assert (target.host_header, target.server_name) == ("hooks.example.com:8443", "hooks.example.com")
    monkeypatch.setattr(targets, "resolve", lambda host, port: [ipaddress.ip_address("2606:4700:4700::1111")])
    assert delivery_target("http://hooks.example.com/in", allow_private=False).url == "http://[2606:4700:4700::1111]/in"


def test_a_name_that_now_resolves_to_a_private_address_is_refused_at_delivery(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(targets, "resolve", lambda host, port: [ipaddress.ip_address("93.184.215.14")])
    check_target("https://rebind.example.com/", allow_private=False)  # saved: public then
    monkeypatch.setattr(
        targets, "resolve", lambda host, port: [ipaddress.ip_address("93.184.215.14"), ipaddress.ip_address("10.0.0.5")]
    )
    with pytest.raises(RefusedTarget, match="10.0.0.5"):
        delivery_target("https://rebind.example.com/", allow_private=False)
    with pytest.raises(ValidationFailed):
        check_target("https://rebind.example.com/", allow_private=False)
    assert delivery_target("https://rebind.example.com/", allow_private=True).url == "https://rebind.example.com/"


def test_a_name_that_does_not_resolve_is_saved_but_not_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    def fails(host: str, port: int) -> list[ipaddress.IPv4Address]:
        raise OSError("Name or service not known")

    monkeypatch.setattr(targets, "resolve", fails)
    check_target("https://nowhere.example.com/", allow_private=False)
    with pytest.raises(RefusedTarget, match="cannot be resolved"):
        delivery_target("https://nowhere.example.com/", allow_private=False)


def test_the_event_policy_covers_every_event_and_maps_entries() -> None:
    assert {rule.event for rule in RULES} == set(EVENT_NAMES)

    def entry(action: str, table: str | None, changes: object = None) -> dict[str, object]:
        return {"action": action, "table_name": table, "changes": changes}

    assert events_of(entry("create", "leads")) == ["record.created"]
    assert events_of(entry("update", "opportunities")) == ["record.updated"]
    assert events_of(entry("create", "users")) == []  # not a sales record
    assert events_of(entry("create", "webhooks")) == []
    assert events_of(entry("reactivate", "users")) == []
    assert events_of(entry("reactivate", "leads")) == ["lead.reactivated"]
    assert events_of(entry("close", "opportunities", {"state": {"old": "open", "new": "won"}})) == ["opportunity.won"]
    assert events_of(entry("close", "opportunities", {"state": {"old": "open", "new": "lost"}})) == ["opportunity.lost"]
    assert events_of(entry("reopen", "opportunities", {"state": {"old": "won", "new": "open"}})) == []
    assert events_of(entry("merge", "accounts")) == ["record.merged"]
    assert events_of(entry("import", "imports", {"rows": 2})) == ["import.finished"]
    assert events_of(entry("sign_in", "users")) == []
