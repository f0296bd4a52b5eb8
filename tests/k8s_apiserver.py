"""A read-only Kubernetes API server of our own, for tests: HTTPS on loopback, bearer-token auth, real
API JSON shapes served from fixture files (tests/data/k8s/<cluster>/<resource>.json, each a `*List` object
as the API returns it).

What it does like the real API server: `/version`, legacy discovery (`/api`, `/api/v1`, `/apis`,
`/apis/<group>/<version>`), cluster-wide and namespaced list paths, get by name, `limit` + `continue` paging
(opaque token, `remainingItemCount`, 410 Expired for a token from another resourceVersion), `Status`
errors (401, 403, 404, 405, 410, 500). The node proxy's `configz` path (`/api/v1/nodes/<node>/proxy/configz`)
answers each node's kubelet configuration from kubelet-configz.json (node -> answer). Test hooks:
`forbidden` resources (403 for that token; `nodes/proxy` for the proxy), `fail_once` resources (one 500, then
normal answers). Every request is logged as (method, path, query) so a test can
hold the scanner's requests against the ClusterRole it ships.
"""
from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DATA = Path(__file__).parent / "data" / "k8s"

# resource -> (group, version, namespaced, List kind)
RESOURCES = {
    "nodes": ("", "v1", False, "NodeList"),
    "namespaces": ("", "v1", False, "NamespaceList"),
    "pods": ("", "v1", True, "PodList"),
    "services": ("", "v1", True, "ServiceList"),
    "serviceaccounts": ("", "v1", True, "ServiceAccountList"),
    "secrets": ("", "v1", True, "SecretList"),
    "deployments": ("apps", "v1", True, "DeploymentList"),
    "statefulsets": ("apps", "v1", True, "StatefulSetList"),
    "daemonsets": ("apps", "v1", True, "DaemonSetList"),
    "jobs": ("batch", "v1", True, "JobList"),
    "cronjobs": ("batch", "v1", True, "CronJobList"),
    "ingresses": ("networking.k8s.io", "v1", True, "IngressList"),
    "networkpolicies": ("networking.k8s.io", "v1", True, "NetworkPolicyList"),
    "roles": ("rbac.authorization.k8s.io", "v1", True, "RoleList"),
    "rolebindings": ("rbac.authorization.k8s.io", "v1", True, "RoleBindingList"),
    "clusterroles": ("rbac.authorization.k8s.io", "v1", False, "ClusterRoleList"),
    "clusterrolebindings": ("rbac.authorization.k8s.io", "v1", False, "ClusterRoleBindingList"),
}
TOKEN = "mlps-test-token-0123456789abcdef"


def _status(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    out = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
           "reason": reason, "code": code}
    if details:
        out["details"] = details
    return out


def make_pki(names: list[str]) -> tuple[bytes, bytes, bytes]:
    """(CA cert PEM, server cert PEM, server key PEM): an EC P-256 CA and a server cert for loopback."""
    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mlps-test-ca")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.IPAddress(ipaddress.ip_address(n)) if n[0].isdigit() else x509.DNSName(n) for n in names]
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    return (ca.public_bytes(pem), cert.public_bytes(pem),
            key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


@dataclass
class FakeApiServer:
    cluster: str
    forbidden: set[str] = field(default_factory=set)
    fail_once: set[str] = field(default_factory=set)
    expire_once: set[str] = field(default_factory=set)  # first continue token of these resources: 410 Expired
    managed_control_plane: bool = False  # hide the kube-apiserver static pod, as EKS/ACK/TKE do
    latency: float = 0.0                  # seconds added to every answer (benchmarks)
    resource_version: str = "48151623"
    log: list[tuple[str, str, str]] = field(default_factory=list)
    url: str = ""
    kubeconfig: Path | None = None

    def __post_init__(self):
        self.dir = DATA / self.cluster
        self.lists = {}
        for res in RESOURCES:
            p = self.dir / f"{res}.json"
            self.lists[res] = json.loads(p.read_text()) if p.exists() else None
        if self.managed_control_plane and self.lists["pods"]:
            self.lists["pods"]["items"] = [i for i in self.lists["pods"]["items"]
                                           if (i["metadata"].get("labels") or {}).get("tier") != "control-plane"]
        self.version = json.loads((self.dir / "version.json").read_text())
        configz = self.dir / "kubelet-configz.json"
        self.configz = json.loads(configz.read_text()) if configz.exists() else {}
        self._failed: set[str] = set()
        self._lock = threading.Lock()

    # ---- lifecycle
    def start(self, workdir: Path | None = None) -> "FakeApiServer":
        self._tmp = tempfile.TemporaryDirectory(prefix="k8s-api-") if workdir is None else None
        wd = Path(workdir or self._tmp.name)
        wd.mkdir(parents=True, exist_ok=True)
        ca, cert, key = make_pki(["127.0.0.1", "localhost"])
        (wd / "server.crt").write_bytes(cert)
        (wd / "server.key").write_bytes(key)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(wd / "server.crt", wd / "server.key")
        server = self

        class Handler(_Handler):
            api = server

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"k8s-api-{self.cluster}", daemon=True)
        self.thread.start()
        self.kubeconfig = wd / "kubeconfig"
        self.kubeconfig.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "preferences": {},
            "clusters": [{"name": self.cluster, "cluster": {
                "server": self.url, "certificate-authority-data": base64.b64encode(ca).decode()}}],
            "users": [{"name": "mlps-scanner", "user": {"token": TOKEN}}],
            "contexts": [{"name": f"{self.cluster}-ctx", "context": {"cluster": self.cluster, "user": "mlps-scanner"}}],
            "current-context": f"{self.cluster}-ctx",
        }))
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
        if self._tmp is not None:
            self._tmp.cleanup()

    # ---- routing
    def handle(self, method: str, path: str, query: dict[str, list[str]], headers) -> tuple[int, dict]:
        with self._lock:
            self.log.append((method, path, "&".join(f"{k}={v[0]}" for k, v in sorted(query.items()))))
        scheme, _, token = str(headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or token.strip() != TOKEN:  # the scheme is case-insensitive, as the API server's
            return 401, _status(401, "Unauthorized", "Unauthorized")
        if method != "GET":
            return 405, _status(405, "MethodNotAllowed", f"the server does not allow this method on the requested resource")
        parts = [p for p in path.split("/") if p]
        if parts == ["version"]:
            return 200, self.version
        if parts == ["api"]:
            return 200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": self.url.split("//", 1)[1]}]}
        if parts == ["apis"]:
            groups = sorted({g for g, *_ in RESOURCES.values() if g})
            return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": g, "versions": [{"groupVersion": f"{g}/v1", "version": "v1"}],
                 "preferredVersion": {"groupVersion": f"{g}/v1", "version": "v1"}} for g in groups]}
        if parts and parts[0] == "api":
            group, rest = "", parts[1:]
        elif parts and parts[0] == "apis" and len(parts) >= 2:
            group, rest = parts[1], parts[2:]
        else:
            return 404, _status(404, "NotFound", "the server could not find the requested resource")
        if not rest or rest[0] != "v1":
            return 404, _status(404, "NotFound", "the server could not find the requested resource")
        gv = f"{group}/v1" if group else "v1"
        rest = rest[1:]
        if not rest:
            return 200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": [
                {"name": r, "singularName": "", "namespaced": ns, "kind": lk[:-4], "verbs": ["get", "list", "watch"]}
                for r, (g, _v, ns, lk) in RESOURCES.items() if g == group]}
        ns = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            ns, rest = rest[1], rest[2:]
        if len(rest) >= 3 and rest[0] == "nodes" and rest[2] == "proxy" and not group:
            return self._node_proxy(rest[1], "/".join(rest[3:]))
        res, name = rest[0], (rest[1] if len(rest) > 1 else None)
        if res not in RESOURCES or RESOURCES[res][0] != group or (ns and not RESOURCES[res][2]):
            return 404, _status(404, "NotFound", "the server could not find the requested resource")
        verb = "get" if name else "list"
        if res in self.forbidden:
            where = f'in the namespace "{ns}"' if ns else "at the cluster scope"
            return 403, _status(403, "Forbidden", f'{res} is forbidden: User "system:serviceaccount:mlps:scanner" '
                                f'cannot {verb} resource "{res}" in API group "{group}" {where}',
                                {"kind": res, **({"group": group} if group else {})})
        with self._lock:
            if res in self.fail_once and res not in self._failed:
                self._failed.add(res)
                return 500, _status(500, "InternalError", "Internal error occurred: etcdserver: request timed out",
                                    {"causes": [{"message": "etcdserver: request timed out"}]})
        doc = self.lists[res] or {"kind": RESOURCES[res][3], "apiVersion": gv, "metadata": {}, "items": []}
        items = [i for i in doc["items"] if ns is None or i["metadata"].get("namespace") == ns]
        if name:
            for i in items:
                if i["metadata"]["name"] == name:
                    return 200, {"kind": RESOURCES[res][3][:-4], "apiVersion": gv, **i}
            return 404, _status(404, "NotFound", f'{res} "{name}" not found', {"name": name, "kind": res})
        start = 0
        if query.get("continue"):
            with self._lock:
                expire = res in self.expire_once and f"expired:{res}" not in self._failed
                if expire:
                    self._failed.add(f"expired:{res}")
            try:
                if expire:
                    raise KeyError("expired")
                tok = json.loads(base64.urlsafe_b64decode(query["continue"][0]))
                if tok["rv"] != self.resource_version:
                    raise KeyError
                start = int(tok["start"])
            except (ValueError, KeyError, TypeError):
                return 410, _status(410, "Expired", "The provided continue parameter is too old to display a consistent "
                                    "list result. You can start a new list without the continue parameter.")
        limit = int(query["limit"][0]) if query.get("limit") else 0
        page = items[start:start + limit] if limit else items[start:]
        md = {"resourceVersion": self.resource_version}
        end = start + len(page)
        if limit and end < len(items):
            md["continue"] = base64.urlsafe_b64encode(json.dumps({"rv": self.resource_version, "start": end}).encode()).decode()
            md["remainingItemCount"] = len(items) - end
        return 200, {"kind": RESOURCES[res][3], "apiVersion": gv, "metadata": md, "items": page}


    def _node_proxy(self, node: str, path: str) -> tuple[int, dict]:
        if "nodes/proxy" in self.forbidden:
            return 403, _status(403, "Forbidden", f'nodes "{node}" is forbidden: User "system:serviceaccount:mlps:scanner" '
                                'cannot get resource "nodes/proxy" in API group "" at the cluster scope',
                                {"name": node, "kind": "nodes"})
        if not any(n["metadata"]["name"] == node for n in (self.lists["nodes"] or {}).get("items", [])):
            return 404, _status(404, "NotFound", f'nodes "{node}" not found', {"name": node, "kind": "nodes"})
        if path != "configz" or node not in self.configz:
            return 404, _status(404, "NotFound", "the server could not find the requested resource")
        return 200, self.configz[node]


class _Handler(BaseHTTPRequestHandler):
    api: FakeApiServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in separate writes: no 40 ms delayed-ACK stall

    def log_message(self, *a):  # quiet
        pass

    def _serve(self, method: str) -> None:
        u = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        code, body = self.api.handle(method, u.path, parse_qs(u.query), self.headers)
        if self.api.latency:
            import time
            time.sleep(self.api.latency)
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Audit-Id", "00000000-0000-0000-0000-000000000000")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_PUT(self):
        self._serve("PUT")

    def do_PATCH(self):
        self._serve("PATCH")

    def do_DELETE(self):
        self._serve("DELETE")
