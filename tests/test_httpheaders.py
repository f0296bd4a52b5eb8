"""The header parser the collectors install must build exactly the message the standard one builds."""
from __future__ import annotations

import http.client
import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlps_scan import httpheaders

pytestmark = pytest.mark.skipif(httpheaders._READ is None, reason="this Python's http.client has no _read_headers")


def standard(block: bytes):
    """What the standard library's own http.client.parse_headers makes of the same bytes."""
    return httpheaders._ORIGINAL(io.BytesIO(block))


def ours(block: bytes):
    return httpheaders.parse_headers(io.BytesIO(block))


def same(a, b) -> None:
    assert type(a) is type(b)
    va, vb = dict(vars(a)), dict(vars(b))
    da, db = va.pop("defects"), vb.pop("defects")  # defect objects compare by identity: by kind and text then
    assert va == vb
    assert [(type(d), str(d)) for d in da] == [(type(d), str(d)) for d in db]
    assert a.items() == b.items() and a.get_all("x-a") == b.get_all("x-a")


AWS_LIKE = (b"x-amzn-RequestId: 0C5Y2EfBTQ6g1bmO4Xi8dy11FFSg3iY4ZkO5PR1Zb5ZUgRTSiV7d\r\n"
            b"Content-Type: text/xml\r\nContent-Length: 117\r\nDate: Mon, 30 Nov 2026 05:17:06 GMT\r\n"
            b"Server: AmazonS3\r\nx-amz-id-2: a/b+c=\r\n\r\n")


@pytest.mark.parametrize("block", [
    AWS_LIKE,
    b"\r\n",                                              # no headers at all
    b"A: 1\nB:2\n\n",                                      # bare LF line ends
    b"X-A:  spaced value  \r\nX-A:\tsecond\r\n\r\n",       # leading blanks dropped, trailing kept, repeats kept
    b"X-Empty:\r\n\r\n",
    b"X-Latin: caf\xe9\r\n\r\n",                           # ISO-8859-1 bytes
])
def test_plain_blocks_take_the_fast_path_and_match(block):
    assert httpheaders.simple_message(io.BytesIO(block).readlines()) is not None
    same(ours(block), standard(block))


@pytest.mark.parametrize("block", [
    b"X-A: one\r\n  folded\r\n\r\n",                       # a continuation line
    b"not a header\r\nX-A: 1\r\n\r\n",                     # a line without a name: the rest is body to email
    b": no name\r\n\r\n",
    b"X-A: a\rb\r\n\r\n",                                  # a bare CR inside a line
    b"From someone\r\n\r\n",
    b"X-A: 1\r\n",                                         # the block ends without its blank line
    b"",
])
def test_odd_blocks_go_to_the_standard_parser_and_match(block):
    assert httpheaders.simple_message(io.BytesIO(block).readlines()) is None
    same(ours(block), standard(block))


_name = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=0, max_size=12)
_value = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0xFF), max_size=30)
_line = st.builds(lambda n, sep, v, end: f"{n}{sep}{v}{end}", _name, st.sampled_from([":", ": ", ":\t", " :", ""]),
                  _value, st.sampled_from(["\r\n", "\n"]))


@settings(max_examples=400, deadline=None)
@given(st.lists(_line, max_size=8), st.sampled_from(["\r\n", "\n", ""]))
def test_any_block_gives_the_standard_message(lines, last):
    block = ("".join(lines) + last).encode("iso-8859-1")
    if any(len(x) > 65536 for x in block.split(b"\n")):
        return
    same(ours(block), standard(block))


def test_install_is_idempotent_and_used_by_http_client():
    original = http.client.parse_headers
    try:
        http.client.parse_headers = httpheaders._ORIGINAL
        assert httpheaders.install() and httpheaders.install()
        assert http.client.parse_headers is httpheaders.parse_headers

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                self.send_response(200)
                self.send_header("X-A", " v1 ")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *a):
                pass

        srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        t = threading.Thread(target=srv.serve_forever, daemon=True)
        t.start()
        try:
            c = http.client.HTTPConnection("127.0.0.1", srv.server_address[1], timeout=10)
            c.request("GET", "/")
            r = c.getresponse()
            assert r.read() == b"ok" and r.getheader("x-a") == "v1 " and r.status == 200
            c.close()
        finally:
            srv.shutdown()
            srv.server_close()
    finally:
        http.client.parse_headers = original


def test_install_leaves_another_replacement_alone():
    original = http.client.parse_headers

    def other(fp, _class=http.client.HTTPMessage):
        return original(fp, _class)
    try:
        http.client.parse_headers = other
        assert httpheaders.install() is False
        assert http.client.parse_headers is other
    finally:
        http.client.parse_headers = original


def test_header_limits_of_http_client_still_apply():
    block = b"".join(b"X-%d: 1\r\n" % i for i in range(http.client._MAXHEADERS + 5)) + b"\r\n"
    with pytest.raises(http.client.HTTPException):
        httpheaders.parse_headers(io.BytesIO(block))
    with pytest.raises(http.client.LineTooLong):
        httpheaders.parse_headers(io.BytesIO(b"X: " + b"a" * 70000 + b"\r\n\r\n"))
