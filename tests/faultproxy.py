"""A fault-injecting front server for the test beds: it sits in front of a real peer (the moto server, the
Kubernetes API server of tests/k8s_apiserver.py, any HTTP(S) server), forwards every request to it, and breaks
the answers a rule names. Any collector test can put it in front of its peer.

    proxy = FaultProxy("http://127.0.0.1:5000").start()            # plain HTTP in front of moto
    proxy.fault("empty", op="s3:GetBucketAcl")                     # an AWS operation (identified from the request)
    proxy.fault("500", path=r"^/version$", times=1)                 # any request whose path matches
    proxy.fault("mutate", path=r"^/api/v1/pods$", mutate=fn)        # rewrite the upstream's JSON answer
    ... point the client at proxy.url ...
    proxy.stop()

    FaultProxy("https://127.0.0.1:6443", upstream_ca=ca_pem, tls=True)  # HTTPS in front of an HTTPS peer;
                                                                         # proxy.ca_pem is the CA to trust

Faults (`FAULTS`):
  empty      200 with an empty body
  garbage    200 with bytes that are neither JSON nor XML
  truncated  the upstream's answer cut in half, well framed (Content-Length of the cut body)
  reset      the connection is reset (RST) after the request is read
  500, 503   a server error in the peer's own error format (AWS: the operation's protocol; else Kubernetes Status)
  403        access denied, in the same formats
  hang       no answer at all until the client gives up (or the proxy stops)
  trickle    the upstream's answer, one byte every `trickle_seconds` (each read is quick; the whole is not)
  mutate     forward, then pass the JSON answer through `mutate(doc) -> doc` (a hostile but well-formed peer)

AWS operations are identified as `service:Operation` from the request itself, as the peer would: the
signing name in the SigV4 credential scope picks the service, then the JSON `X-Amz-Target`, the query
`Action=` (with `Version=` for services that share a signing name) or the REST request URI of the
operation (botocore's service models) picks the operation. `proxy.seen` counts every request by that key
(or by path for non-AWS peers), `proxy.hits` the faults applied.

`replay=True` keeps the upstream's answer to each distinct request (method, path, query, X-Amz-Target, body)
and serves it again from memory: a read-only scanner asks the same questions every run, so a test running
many faulted scans of one unchanging estate pays the peer once (the last answer to a request wins, e.g. a
credential report that was STARTED and then COMPLETE).
"""
from __future__ import annotations

import http.client
import json
import re
import socket
import ssl
import struct
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlsplit

FAULTS = ("empty", "garbage", "truncated", "reset", "500", "503", "403", "hang")
GARBAGE = b"\x00\xff<<not an answer>> \x1b[2J{]\xfe"

# services the AWS collector talks to (and EKS, which the Kubernetes collector asks); others can be added
AWS_SERVICES = ("sts", "ec2", "iam", "s3", "s3control", "logs", "config", "rds", "acm", "cloudtrail",
                "guardduty", "kms", "elbv2", "wafv2", "eks", "ssm", "backup", "cloudwatch", "sns", "events",
                "securityhub", "route53resolver")


# --------------------------------------------------------------------------- AWS operation identification


class AwsOperations:
    """Maps a raw HTTP request to `service:Operation` using botocore's service models."""

    def __init__(self, services=AWS_SERVICES):
        import botocore.session
        sess = botocore.session.get_session()
        self.models = {s: sess.get_service_model(s) for s in services}
        self.by_signing: dict[str, list[str]] = {}
        for s, m in self.models.items():
            self.by_signing.setdefault(m.signing_name or m.endpoint_prefix, []).append(s)
        self._rest: dict[str, list[tuple[str, re.Pattern, tuple[str, ...], int, str]]] = {}

    def protocol(self, service: str) -> str:
        """The protocol a client speaks: the first of the service's `protocols` botocore supports (as it picks)."""
        m = self.models[service]
        known = ("json", "query", "ec2", "rest-json", "rest-xml")
        return next((p for p in m.metadata.get("protocols") or [] if p in known), m.protocol)

    def _rest_table(self, service: str):
        if service not in self._rest:
            rows = []
            m = self.models[service]
            for name in m.operation_names:
                http_ = m.operation_model(name).http
                path, _, query = http_.get("requestUri", "/").partition("?")
                rx = "^" + re.sub(r"\\\{[^}]+\\\+\\\}", ".+", re.sub(r"\\\{[^}+]+\\\}", "[^/]+", re.escape(path)))
                rx += "/?$" if not path.endswith("/") else "$"
                keys = tuple(k.split("=", 1)[0] for k in query.split("&") if k)
                literal = len(re.sub(r"\{[^}]+\}", "", path)) + 10 * len(keys)
                rows.append((http_.get("method", "GET"), re.compile(rx), keys, literal, name))
            self._rest[service] = rows
        return self._rest[service]

    def identify(self, method: str, path: str, headers, body: bytes) -> str | None:
        auth = headers.get("Authorization", "")
        m = re.search(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request", auth)
        if not m:
            return None
        candidates = self.by_signing.get(m.group(1), [])
        u = urlsplit(path)
        target = headers.get("X-Amz-Target")
        form = parse_qs(body.decode("utf-8", "replace")) if body and b"Action=" in body[:4096] else {}
        best = None  # REST operations: the most specific request URI over every candidate service (s3 vs s3control)
        for service in candidates:
            model = self.models[service]
            protos = set(model.metadata.get("protocols") or [model.protocol])  # e.g. CloudWatch: cbor, json, query
            if "json" in protos and target:
                prefix, _, op = target.rpartition(".")
                if prefix == model.metadata.get("targetPrefix") and op in model.operation_names:
                    return f"{service}:{op}"
            elif protos & {"query", "ec2"} and form:
                op = form.get("Action", [""])[0]
                version = form.get("Version", [""])[0]
                if op in model.operation_names and (not version or version == model.api_version):
                    return f"{service}:{op}"
            elif protos & {"rest-xml", "rest-json"}:
                q = parse_qs(u.query, keep_blank_values=True)
                for meth, rx, keys, literal, name in self._rest_table(service):
                    if meth == method and rx.match(unquote(u.path)) and all(k in q for k in keys):
                        if best is None or literal > best[0]:
                            best = (literal, f"{service}:{name}")
        return best[1] if best else None


# --------------------------------------------------------------------------- rules and the server


@dataclass
class Rule:
    kind: str
    op: str | set | None = None          # "service:Operation", a set of them, or "*" (every AWS operation)
    path: str | None = None              # regex on the request path (without the query)
    query: str | None = None             # regex on the query string
    times: int | None = None             # apply this many times, then pass through
    mutate: Callable[[Any], Any] | None = None
    used: int = 0

    def matches(self, op: str | None, path: str, query: str) -> bool:
        if self.times is not None and self.used >= self.times:
            return False
        if self.op is not None:
            if op is None:
                return False
            if self.op != "*" and not (op in self.op if isinstance(self.op, (set, frozenset)) else op == self.op):
                return False
        if self.path is not None and not re.search(self.path, path):
            return False
        if self.query is not None and not re.search(self.query, query):
            return False
        return True


@dataclass
class FaultProxy:
    upstream: str
    tls: bool = False                     # serve HTTPS (a CA of our own: `ca_pem`)
    upstream_ca: bytes | None = None      # PEM of the CA that signed the upstream's certificate
    aws: bool = True                      # identify AWS operations in requests
    hang_seconds: float = 120.0           # how long a hung request is held at most
    trickle_seconds: float = 0.2          # pause between the bytes of a trickled answer
    replay: bool = False                  # serve repeated requests from the answers kept (see above)
    rules: list[Rule] = field(default_factory=list)
    seen: Counter = field(default_factory=Counter)
    hits: Counter = field(default_factory=Counter)
    url: str = ""
    ca_pem: bytes | None = None

    def __post_init__(self):
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._kept: dict[tuple, tuple[int, list[tuple[str, str]], bytes]] = {}
        self._ops = AwsOperations() if self.aws else None
        u = urlsplit(self.upstream)
        self._up = (u.scheme, u.hostname, u.port or (443 if u.scheme == "https" else 80))

    # ---- configuration
    def fault(self, kind: str, *, op=None, path: str | None = None, query: str | None = None,
              times: int | None = None, mutate: Callable[[Any], Any] | None = None) -> Rule:
        if kind not in FAULTS + ("mutate", "trickle"):
            raise ValueError(f"unknown fault {kind!r}")
        if kind == "mutate" and mutate is None:
            raise ValueError("mutate needs a function")
        r = Rule(kind, op=set(op) if isinstance(op, (list, tuple, set, frozenset)) else op, path=path, query=query,
                 times=times, mutate=mutate)
        with self._lock:
            self.rules.append(r)
        return r

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self.seen.clear()
            self.hits.clear()

    # ---- lifecycle
    def start(self) -> "FaultProxy":
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        scheme = "http"
        if self.tls:
            import sys
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from k8s_apiserver import make_pki
            ca, cert, key = make_pki(["127.0.0.1", "localhost"])
            self.ca_pem = ca
            self._tmp = tempfile.TemporaryDirectory(prefix="faultproxy-")
            crt, kf = Path(self._tmp.name) / "proxy.crt", Path(self._tmp.name) / "proxy.key"
            crt.write_bytes(cert)
            kf.write_bytes(key)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(crt, kf)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       name="faultproxy", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
        if getattr(self, "_tmp", None) is not None:
            self._tmp.cleanup()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- internals
    def _rule_for(self, op: str | None, path: str, query: str) -> Rule | None:
        with self._lock:
            self.seen[op or path] += 1
            for r in self.rules:
                if r.matches(op, path, query):
                    r.used += 1
                    self.hits[(op or path, r.kind)] += 1
                    return r
        return None

    def forward(self, method: str, path: str, headers, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        key = (method, path, headers.get("X-Amz-Target"), body)
        if self.replay:
            with self._lock:
                kept = self._kept.get(key)
            if kept is not None:
                return kept
        answer = self._forward(method, path, headers, body)
        if self.replay:
            with self._lock:
                self._kept[key] = answer
        return answer

    def _forward(self, method: str, path: str, headers, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        scheme, host, port = self._up
        if scheme == "https":
            ctx = ssl.create_default_context()
            if self.upstream_ca:
                ctx.load_verify_locations(cadata=self.upstream_ca.decode())
            else:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            conn = http.client.HTTPSConnection(host, port, context=ctx, timeout=60)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=60)
        try:
            hop = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "upgrade"}
            conn.request(method, path, body=body or None,
                         headers={k: v for k, v in headers.items() if k.lower() not in hop})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, [(k, v) for k, v in resp.getheaders() if k.lower() not in hop | {"content-length"}], data
        finally:
            conn.close()


def _error_body(kind: str, op: str | None, proto: str | None) -> tuple[str, bytes]:
    """An error answer in the format the peer would use."""
    code, http_code = {"403": ("AccessDenied", 403), "500": ("InternalError", 500), "503": ("ServiceUnavailable", 503)}[kind]
    msg = f"injected {kind} for {op or 'this request'}"
    if proto == "json" or proto == "rest-json":
        if code == "AccessDenied":
            code = "AccessDeniedException"
        return "application/x-amz-json-1.1", json.dumps({"__type": code, "message": msg}).encode()
    if proto == "ec2":
        return "text/xml", (f"<Response><Errors><Error><Code>{code}</Code><Message>{msg}</Message></Error></Errors>"
                            "<RequestID>0</RequestID></Response>").encode()
    if proto == "query":
        return "text/xml", (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{msg}</Message>"
                            "</Error><RequestId>0</RequestId></ErrorResponse>").encode()
    if proto == "rest-xml":
        return "application/xml", f"<Error><Code>{code}</Code><Message>{msg}</Message></Error>".encode()
    reason = {"403": "Forbidden", "500": "InternalError", "503": "ServiceUnavailable"}[kind]
    return "application/json", json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                           "message": msg, "reason": reason, "code": http_code}).encode()


class _Handler(BaseHTTPRequestHandler):
    owner: FaultProxy
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *a):  # quiet
        pass

    def _send(self, code: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _serve(self) -> None:
        p = self.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        u = urlsplit(self.path)
        op = p._ops.identify(self.command, self.path, self.headers, body) if p._ops else None
        rule = p._rule_for(op, u.path, u.query)
        kind = rule.kind if rule else None
        proto = p._ops.protocol(op.split(":")[0]) if (op and p._ops) else None
        ctype = {"json": "application/x-amz-json-1.1", "rest-json": "application/json", "query": "text/xml",
                 "ec2": "text/xml", "rest-xml": "application/xml"}.get(proto or "", "application/json")
        if kind is None:
            code, headers, data = p.forward(self.command, self.path, self.headers, body)
            return self._send(code, headers, data)
        if kind == "empty":
            return self._send(200, [("Content-Type", ctype)], b"")
        if kind == "garbage":
            return self._send(200, [("Content-Type", ctype)], GARBAGE)
        if kind in ("403", "500", "503"):
            ct, data = _error_body(kind, op, proto)
            return self._send(int(kind), [("Content-Type", ct)], data)
        if kind == "reset":
            self.close_connection = True
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
            self.connection.close()
            return None
        if kind == "hang":
            self.close_connection = True
            p._stop.wait(p.hang_seconds)
            return None
        code, headers, data = p.forward(self.command, self.path, self.headers, body)
        if kind == "truncated":
            return self._send(code, headers, data[: len(data) // 2])
        if kind == "trickle":
            self.close_connection = True
            self.send_response(code)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                for i in range(len(data)):
                    if p._stop.wait(p.trickle_seconds):
                        return None
                    self.wfile.write(data[i:i + 1])
                    self.wfile.flush()
            except OSError:  # the client gave up
                pass
            return None
        if kind == "mutate":
            try:
                doc = json.loads(data)
            except ValueError:
                return self._send(code, headers, data)
            new = rule.mutate(doc)
            return self._send(code, headers, new if isinstance(new, bytes) else json.dumps(new).encode())
        raise AssertionError(kind)

    def do_GET(self):  # noqa: N802
        self._serve()

    def do_POST(self):  # noqa: N802
        self._serve()

    def do_PUT(self):  # noqa: N802
        self._serve()

    def do_HEAD(self):  # noqa: N802
        self._serve()

    def do_DELETE(self):  # noqa: N802
        self._serve()

    def do_PATCH(self):  # noqa: N802
        self._serve()
