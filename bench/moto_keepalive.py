#!/usr/bin/env python3
"""moto's server, keeping HTTP/1.1 connections alive as AWS's endpoints do.

`moto_server` answers through werkzeug's development server, which ends every response with `Connection:
close`: each API call then opens a new TCP connection and the server starts a new thread for it. AWS keeps
connections open, and the collector's clients are built to reuse them (`max_pool_connections` sized to the
workers). Benchmarking against a server that refuses reuse measures connection set-up, on both sides, that a
real scan does not pay. This runs moto's own application (the same `DomainDispatcherApplication` that
`moto_server` runs) behind werkzeug's handler with three changes:

- the request body is read whole before the application runs, so the next request on the connection always
  starts where this one ended, whatever the application read of it;
- the answer is sent with its length and without `Connection: close`, so the connection stays open (HTTP/1.1),
  and nothing is read after it (werkzeug drains the socket after each answer, which on an open connection
  would swallow the client's next request);
- Nagle's algorithm off: headers and body go in separate writes, which would otherwise wait for the client's
  delayed ACK (about 40 ms) on every response.

    python bench/moto_keepalive.py -H 127.0.0.1 -p 5000

`bench/aws_bench.py` uses it unless `--moto-close` asks for the stock server.
"""
from __future__ import annotations

import argparse
import io
import os
import signal
import sys

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


class KeepAliveHandler(MotoRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_request(self, *_a) -> None:  # a line per request on stderr costs the server more than the answer
        pass

    def run_wsgi(self) -> None:
        environ = self.make_environ()
        body = self.rfile.read(int(environ.get("CONTENT_LENGTH") or 0)) if not environ.get("wsgi.input_terminated") \
            else environ["wsgi.input"].read()  # a chunked body: werkzeug's dechunker reads it to its end
        environ.update({"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))})
        environ.pop("wsgi.input_terminated", None)
        got: list = []

        def start_response(status, headers, exc_info=None):
            got[:] = [status, headers]
            return parts.append

        parts: list[bytes] = []
        answer = self.server.app(environ, start_response)
        try:
            parts.extend(answer)
        finally:
            if hasattr(answer, "close"):
                answer.close()
        status, headers = got
        code, _, reason = status.partition(" ")
        data = b"".join(parts)
        self.send_response(int(code), reason)
        for k, v in headers:
            if k.lower() not in ("connection", "transfer-encoding", "content-length", "server", "date"):
                self.send_header(k, v)
        if self.command == "HEAD":  # the length of what a GET would send, as the application said it
            length = next((v for k, v in headers if k.lower() == "content-length"), "0")
        else:
            length = str(len(data))
        if int(code) not in (204, 304):
            self.send_header("Content-Length", length)
        self.end_headers()
        if self.command != "HEAD" and int(code) not in (204, 304):
            self.wfile.write(data)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-H", "--host", default="127.0.0.1")
    ap.add_argument("-p", "--port", type=int, required=True)
    a = ap.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(a.port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(a.host, a.port, app, threaded=True, use_reloader=False, request_handler=KeepAliveHandler)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
