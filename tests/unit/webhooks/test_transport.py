"""Which receiver addresses count as public (the webhook worker's SSRF guard), without a network."""
import pytest

from fieldsales.webhooks.transport import is_public, literal_private


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.1.2.3", "10.0.0.5", "172.16.0.1", "192.168.1.1", "169.254.169.254",
    "100.64.0.1", "224.0.0.1", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1",
    "::ffff:10.1.1.1", "::",
    "0.0.0.0",  # noqa: S104 (an address under test, not a bind)
])
def test_loopback_private_link_local_and_multicast_are_not_public(address):
    assert is_public(address) is False


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111",
                                     "::ffff:8.8.8.8"])
def test_global_addresses_are_public(address):
    assert is_public(address) is True


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/x", "https://localhost/x", "http://LOCALHOST./x",
    "http://api.localhost/x", "http://[::1]:9000/", "http://169.254.169.254/latest/meta-data",
    "http://10.0.0.5/", "http://user:pw@192.168.0.10/h",
])
def test_urls_naming_a_private_host_literally(url):
    assert literal_private(url) is True


@pytest.mark.parametrize("url", ["https://example.com/hooks", "http://8.8.8.8/x",
                                 "https://hooks.internal.example/x"])
def test_names_and_public_addresses_are_not_refused_on_subscribe(url):
    # names are checked when sent, after resolving them
    assert literal_private(url) is False
