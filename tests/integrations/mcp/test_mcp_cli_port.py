"""--http takes a port of ASCII digits; any other is refused naming the option and the value."""

import pytest

from integrations.mcp.cli import parse_host_port


@pytest.mark.parametrize("text", ["127.0.0.1:8²", "127.0.0.1:¹²³", "127.0.0.1:٨٠"])
def test_port_of_other_digits_is_refused(text):
    with pytest.raises(ValueError, match="--http: expected HOST:PORT") as caught:
        parse_host_port(text)
    assert repr(text) in str(caught.value)


def test_ascii_port_is_read():
    assert parse_host_port("[::1]:8765") == ("::1", 8765)


@pytest.mark.parametrize("text", ["[::1:8765", "::1]:8765", "[[::1]]:8765", "[]:8765", "[::1]]:8765"])
def test_host_of_unbalanced_brackets_is_refused(text):
    with pytest.raises(ValueError, match="--http: expected HOST:PORT") as caught:
        parse_host_port(text)
    assert repr(text) in str(caught.value)


def test_unbracketed_host_is_read():
    assert parse_host_port("localhost:8765") == ("localhost", 8765)


@pytest.mark.parametrize("text", ["::1:8765", "fe80::1:8765", "::ffff:127.0.0.1:8765"])
def test_ipv6_host_without_brackets_is_refused(text):
    # "::1:8765" reads as ::1 port 8765 or as the address ::1:8765 with no port: which was a guess
    with pytest.raises(ValueError, match=r"--http: an IPv6 address goes in brackets, as in \[::1\]:8765") as caught:
        parse_host_port(text)
    assert repr(text) in str(caught.value)


@pytest.mark.parametrize("text", ["127.0.0.1:0", "127.0.0.1:65536", "[::1]:99999", "localhost:123456", "localhost:" + "9" * 5000])
def test_port_out_of_range_is_refused_saying_so(text):
    # it is HOST:PORT: "expected HOST:PORT" left the range to guess
    with pytest.raises(ValueError, match=r"^--http: the port must be 1 to 65535, got ") as caught:
        parse_host_port(text)
    assert repr(text)[:50] in str(caught.value)
