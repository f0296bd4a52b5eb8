"""End to end against the host test bed (tests/fixtures/hosts.py): real sshd, real nmap, real paramiko.

web01 (NET.11) is crafted compliant, db01 (NET.12) weak with a telnet listener on 23, and
NET.14 accepts TCP on 22 and then hangs."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CHECK_BUNDLE, run_cli
from fixtures.hosts import COMPLIANT, NET

pytestmark = pytest.mark.hosts

WEB, DB, HANG = NET + "11", NET + "12", NET + "14"
WEB2 = NET + "16"  # web02: web01's configuration, but apt-get fails and auditctl refuses (fixture `web02`)

# exact verdict per check and host at level 3 (default profile)
EXPECTED = {
    "host.password_complexity": ("pass", "fail"),
    "host.password_max_age": ("pass", "fail"),
    "host.login_lockout": ("pass", "fail"),
    "host.idle_timeout": ("pass", "fail"),
    "host.remote_admin_encrypted": ("pass", "fail"),
    "host.ssh_root_login": ("pass", "fail"),
    "host.ssh_key_auth": ("pass", "fail"),
    "host.mfa": ("pass", "fail"),
    "host.uid0_accounts": ("pass", "fail"),
    "host.empty_passwords": ("pass", "fail"),
    "host.default_accounts": ("pass", "fail"),
    "host.surplus_accounts": ("pass", "fail"),
    "host.sudo_least_privilege": ("pass", "fail"),
    "host.mac_enforcing": ("pass", "fail"),
    "host.auditd": ("pass", "fail"),
    "host.audit_protected": ("pass", "fail"),
    "host.log_forwarding": ("pass", "fail"),
    "host.log_retention": ("pass", "fail"),
    "host.time_sync": ("pass", "fail"),
    "host.high_risk_ports": ("pass", "fail"),
    "host.unneeded_services": ("pass", "fail"),
    "host.security_updates": ("pass", "fail"),
    "host.anti_malware": ("pass", "fail"),
    "host.password_hashes": ("pass", "fail"),
    "host.disk_encryption": ("not_applicable", "not_applicable"),
    # issue 15: outbound and stateful filtering, remote-access logging, administrators' operations audited,
    # policy files only root may change
    "host.outbound_filtering": ("pass", "fail"),
    "host.firewall_stateful": ("pass", "fail"),
    "host.remote_access_logging": ("pass", "fail"),
    "host.admin_actions_audited": ("pass", "fail"),
    "host.audit_config_audited": ("pass", "fail"),
    "host.policy_files_protected": ("pass", "fail"),
}


def write_config(path: Path, bed, *, known_hosts: Path, key: Path | None = None, tofu: bool = False,
                 discover: bool = True, hang: bool = True, targets=(WEB, DB)) -> Path:
    key = key or bed.client_key
    ssh = {"user": "root", "key": str(key), "known_hosts": str(known_hosts), "use_ssh_config": False, "timeout": 3}
    if tofu:
        ssh["trust_on_first_use"] = True
    doc = {"system": {"name": "host bed", "level": 3},
           "hosts": [{"name": "lab", "targets": list(targets), "ports": [22, 23, 3389], "discover": discover, "ssh": ssh}]}
    if hang:
        doc["hosts"].append({"name": "hang", "targets": [HANG], "discover": False,
                             "ssh": {**ssh, "timeout": 2, "trust_on_first_use": False}})
    path.write_text(json.dumps(doc))
    return path


def findings(out: Path) -> dict[tuple[str, str], str]:
    return {(f["check_id"], f["resource_id"]): f["status"] for f in json.loads((out / "findings.json").read_text())}


def evidence(out: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((out / "evidence").glob("*.json"))]


@pytest.fixture(scope="module")
def main_scan(host_bed, tmp_path_factory):
    d = tmp_path_factory.mktemp("hostscan")
    cfg = write_config(d / "scan.yaml", host_bed, known_hosts=host_bed.known)
    out = d / "out"
    r = run_cli("scan", "--config", str(cfg), "--out", str(out), "--quiet", timeout=240)
    return r, out, cfg


def test_exit_code_is_partial_because_one_host_hangs(main_scan):
    r, out, _ = main_scan
    assert r.returncode == 3, r.stderr
    assert json.loads((out / "manifest.json").read_text())["partial"] is True


@pytest.mark.parametrize("check_id", sorted(EXPECTED))
def test_exact_verdicts_per_host(main_scan, check_id):
    _, out, _ = main_scan
    got = findings(out)
    web, db = EXPECTED[check_id]
    assert got.get((check_id, WEB)) == web, (check_id, got.get((check_id, WEB)))
    assert got.get((check_id, DB)) == db, (check_id, got.get((check_id, DB)))
    # the hanging host is never silently passed: every host check on it is an error
    if check_id != "host.disk_encryption":
        assert got.get((check_id, HANG)) == "error", (check_id, got.get((check_id, HANG)))


def test_nmap_view_of_services(main_scan):
    _, out, _ = main_scan
    got = findings(out)
    assert got[("host.ssh_algorithms", f"{WEB}:22/tcp")] == "pass"
    assert got[("host.ssh_algorithms", f"{DB}:22/tcp")] == "fail"
    inv = json.loads((out / "inventory.json").read_text())
    svc = {a["id"]: a["attributes"] for a in inv["assets"] if a["type"] == "host.service"}
    assert svc[f"{DB}:23/tcp"]["service"] == "telnet"
    assert "3des-cbc" in svc[f"{DB}:22/tcp"]["ssh_algorithms"]["encryption_algorithms"]
    hosts = {a["id"]: a for a in inv["assets"] if a["type"] == "host"}
    assert hosts[WEB]["name"] == "web01" and hosts[DB]["name"] == "db01"
    assert hosts[DB]["attributes"]["open_ports"] == [22, 23]
    assert hosts[WEB]["attributes"]["os"]["id"] == "openEuler"


def test_hang_is_a_timeout_error_and_the_rest_went_on(main_scan):
    _, out, _ = main_scan
    rec = next(e for e in evidence(out) if e["source"] == f"facts:{HANG}")
    assert rec["status"] == "error" and rec["error"].startswith("timeout"), rec["error"]
    ok = [e for e in evidence(out) if e["source"] in (f"facts:{WEB}", f"facts:{DB}")]
    assert [e["status"] for e in ok] == ["ok", "ok"]


def test_one_session_one_channel_and_nmap_xml_recorded(main_scan):
    _, out, _ = main_scan
    ev = evidence(out)
    nm = [e for e in ev if e["source"] == "nmap"]
    assert len(nm) == 1 and nm[0]["answer"]["xml"].lstrip().startswith("<?xml")
    assert set(nm[0]["request"]["targets"]) == {WEB, DB}
    for addr in (WEB, DB, HANG):  # one fact record (one attempt) per host
        assert [e["source"] for e in ev].count(f"facts:{addr}") == 1
    facts = [e for e in ev if e["source"] == f"facts:{WEB}"][0]
    assert facts["answer"]["host_key"]["trusted_by"] == "known_hosts"
    # sessions and channels are counted by sshd itself in test_one_session_per_host_however_it_is_listed


def test_no_password_hash_leaves_the_host(main_scan):
    _, out, _ = main_scan
    blob = "".join(p.read_text() for p in out.rglob("*.json"))
    assert "mlpstest" not in blob  # the crafted hashes' salt
    assert "$6$" not in blob and "$1$" not in blob and "$y$" not in blob
    tool = CHECK_BUNDLE if CHECK_BUNDLE.exists() else Path("/work/shared/tools/check-bundle")
    if not tool.exists():
        pytest.skip("check-bundle not present")
    r = subprocess.run([sys.executable, str(tool), str(out)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_evidence_replays_to_the_same_inventory(main_scan, tmp_path):
    _, out, _ = main_scan
    cfg = tmp_path / "replay.yaml"
    cfg.write_text(json.dumps({"system": {"name": "replay", "level": 3},
                               "static": [{"name": "rec", "path": str(out / "evidence"), "format": "evidence"}]}))
    out2 = tmp_path / "out"
    r = run_cli("scan", "--config", str(cfg), "--out", str(out2), "--quiet")
    assert r.returncode in (1, 3), r.stderr

    def norm(p):
        inv = json.loads((p / "inventory.json").read_text())
        return sorted((a["type"], a["id"], a["scope"], json.dumps(a["attributes"], sort_keys=True),
                       json.dumps(a["errors"], sort_keys=True)) for a in inv["assets"])

    assert norm(out2) == norm(out)
    assert findings(out2) == findings(out)


# --------------------------------------------------------------------------- host keys and auth


def _facts(out: Path, addr: str) -> dict:
    return next(e for e in evidence(out) if e["source"] == f"facts:{addr}")


def test_unknown_host_key_is_refused(host_bed, tmp_path):
    kh = host_bed.known_hosts(tmp_path / "kh", only=[DB])
    cfg = write_config(tmp_path / "scan.yaml", host_bed, known_hosts=kh, discover=False, hang=False)
    r = run_cli("scan", "--config", str(cfg), "--out", str(tmp_path / "out"), "--quiet")
    assert r.returncode == 3, r.stderr
    rec = _facts(tmp_path / "out", WEB)
    assert rec["status"] == "error" and "not in known_hosts" in rec["error"] and "refused" in rec["error"]
    assert _facts(tmp_path / "out", DB)["status"] == "ok"
    got = findings(tmp_path / "out")
    assert got[("host.ssh_root_login", WEB)] == "error" and got[("host.ssh_root_login", DB)] == "fail"


def test_trust_on_first_use_records_the_key(host_bed, tmp_path):
    kh = host_bed.known_hosts(tmp_path / "kh", only=[DB])
    cfg = write_config(tmp_path / "scan.yaml", host_bed, known_hosts=kh, discover=False, hang=False, targets=(WEB,))
    r = run_cli("collect", "--config", str(cfg), "--out", str(tmp_path / "out"), "--quiet", "--tofu")
    assert r.returncode == 0, r.stderr
    rec = _facts(tmp_path / "out", WEB)
    assert rec["status"] == "ok"
    hk = rec["answer"]["host_key"]
    assert hk["trusted_by"] == "trust-on-first-use" and hk["sha256"].startswith("SHA256:")
    assert kh.read_text().count("\n") == 1  # read-only: known_hosts is not modified


def test_changed_host_key_is_refused_even_with_tofu(host_bed, tmp_path):
    kh = host_bed.known_hosts(tmp_path / "kh", swap={WEB: DB})
    cfg = write_config(tmp_path / "scan.yaml", host_bed, known_hosts=kh, discover=False, hang=False, tofu=True)
    r = run_cli("scan", "--config", str(cfg), "--out", str(tmp_path / "out"), "--quiet")
    assert r.returncode == 3, r.stderr
    rec = _facts(tmp_path / "out", WEB)
    assert rec["status"] == "error" and "CHANGED" in rec["error"]
    assert rec["answer"]["offered_key"]["sha256"].startswith("SHA256:")
    assert findings(tmp_path / "out")[("host.password_complexity", WEB)] == "error"


def test_wrong_client_key_is_an_auth_error(host_bed, tmp_path):
    cfg = write_config(tmp_path / "scan.yaml", host_bed, known_hosts=host_bed.known, key=host_bed.wrong_key,
                       discover=False, hang=False, targets=(WEB,))
    r = run_cli("scan", "--config", str(cfg), "--out", str(tmp_path / "out"), "--quiet")
    assert r.returncode == 3, r.stderr
    rec = _facts(tmp_path / "out", WEB)
    assert rec["status"] == "denied" and "authentication failed" in rec["error"]
    got = findings(tmp_path / "out")
    assert {s for (c, res), s in got.items() if res == WEB} == {"error", "not_applicable"}


def test_local_transport_runs_the_same_script(tmp_path):
    cfg = tmp_path / "scan.yaml"
    cfg.write_text(json.dumps({"system": {"name": "local", "level": 3},
                               "hosts": [{"name": "me", "transport": "local", "discover": False}]}))
    r = run_cli("collect", "--config", str(cfg), "--out", str(tmp_path / "out"), "--quiet")
    assert r.returncode == 0, r.stderr
    inv = json.loads((tmp_path / "out" / "inventory.json").read_text())
    host = next(a for a in inv["assets"] if a["type"] == "host")
    assert host["id"] == "localhost" and host["attributes"]["transport"] == "local"
    assert host["attributes"]["kernel"] and "ssh" in host["attributes"] and "accounts" in host["attributes"]


def test_connection_dropped_mid_script_is_an_error(host_bed, tmp_path):
    drop = host_bed.drop_address
    cfg = write_config(tmp_path / "scan.yaml", host_bed, known_hosts=host_bed.known, discover=False, hang=False,
                       targets=(drop,))
    r = run_cli("scan", "--config", str(cfg), "--out", str(tmp_path / "out"), "--quiet")
    assert r.returncode == 3, r.stderr
    rec = _facts(tmp_path / "out", drop)
    assert rec["status"] == "error", rec
    assert "dropped" in rec["error"], rec["error"]
    got = findings(tmp_path / "out")
    assert got[("host.auditd", drop)] == "error" and got[("host.ssh_root_login", drop)] == "error"


@pytest.mark.parametrize("layout", ["name block", "address block"])
def test_ssh_config_supplies_user_key_known_hosts_and_hostname(host_bed, tmp_path, layout):
    """No ssh settings in scan.yaml: ~/.ssh/config (HOME of the run) names the address, user, key and known_hosts,
    either in the usual `Host alias` block, or in a block for the address the alias resolves to."""
    settings = f"  User root\n  IdentityFile {host_bed.client_key}\n  UserKnownHostsFile {host_bed.known}\n"
    # (as in OpenSSH, the first value obtained wins: a later `Host *` does not override the specific block)
    text = (f"Host web01-lab\n  HostName {WEB}\n{settings}" if layout == "name block"
            else f"Host web01-lab\n  HostName {WEB}\n\nHost {WEB}\n{settings}") + "\nHost *\n  User nobody-by-default\n"
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "config").write_text(text)
    cfg = tmp_path / "scan.yaml"
    cfg.write_text(json.dumps({"system": {"name": "cfg", "level": 3},
                               "hosts": [{"name": "cfg", "targets": ["web01-lab"], "discover": False}]}))
    r = run_cli("collect", "--config", str(cfg), "--out", str(tmp_path / "out"), "--quiet", env={"HOME": str(home)})
    assert r.returncode == 0, r.stderr
    rec = _facts(tmp_path / "out", WEB)
    assert rec["status"] == "ok" and rec["request"]["user"] == "root"
    assert rec["request"]["known_hosts"] == str(host_bed.known)
    inv = json.loads((tmp_path / "out" / "inventory.json").read_text())
    assert [a["name"] for a in inv["assets"] if a["type"] == "host"] == ["web01"]


def test_jump_host(host_bed, tmp_path):
    """db01 reached through web01 (direct-tcpip channel); both host keys verified against known_hosts."""
    cfg = tmp_path / "scan.yaml"
    cfg.write_text(json.dumps({"system": {"name": "jump", "level": 3}, "hosts": [{
        "name": "jump", "targets": [DB], "discover": False,
        "ssh": {"user": "root", "key": str(host_bed.client_key), "known_hosts": str(host_bed.known),
                "jump_host": f"root@{WEB}:22", "use_ssh_config": False, "timeout": 5}}]}))
    r = run_cli("collect", "--config", str(cfg), "--out", str(tmp_path / "out"), "--quiet")
    assert r.returncode == 0, r.stderr
    rec = _facts(tmp_path / "out", DB)
    assert rec["status"] == "ok" and rec["request"]["jump_host"] == f"root@{WEB}:22"
    assert "hostname=db01" in rec["answer"]["sections"]["meta"]


def test_cidr_range_discovers_only_hosts_with_open_ports(host_bed, tmp_path):
    """NET.10/31 holds .10 (nothing listening) and .11 (web01): nmap finds web01, facts follow."""
    cfg = tmp_path / "scan.yaml"
    cfg.write_text(json.dumps({"system": {"name": "range", "level": 3}, "hosts": [{
        "name": "range", "targets": [NET + "10/31"], "ports": [22, 23],
        "ssh": {"user": "root", "key": str(host_bed.client_key), "known_hosts": str(host_bed.known),
                "use_ssh_config": False, "timeout": 3}}]}))
    r = run_cli("collect", "--config", str(cfg), "--out", str(tmp_path / "out"), "--quiet")
    assert r.returncode == 0, r.stderr
    inv = json.loads((tmp_path / "out" / "inventory.json").read_text())
    assert [a["id"] for a in inv["assets"] if a["type"] == "host"] == [WEB]
    assert _facts(tmp_path / "out", WEB)["status"] == "ok"


# --------------------------------------------------------------------------- web02: degraded tools


WEB02 = {**COMPLIANT, "hostname": "web02", "stub_text": {
    "apt-get": "#!/bin/sh\necho 'E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt)' >&2\n"
               "exit 100\n",
    # what auditctl says to a login without privilege (exit 4), as when sudo -n is not allowed
    "auditctl": "#!/bin/sh\necho 'You must be root to run this program.' >&2\nexit 4\n"}}


@pytest.fixture(scope="module")
def web02(host_bed):
    """A fourth sshd on NET.16 (debug log: its sessions and channels can be counted)."""
    h = host_bed.add_sshd(WEB02, WEB2, log_level="DEBUG1")
    host_bed.wait_ready()
    return h


def test_failing_package_manager_is_an_error_not_a_pass(host_bed, web02, tmp_path):
    kh = host_bed.known_hosts(tmp_path / "kh", only=[WEB2])
    cfg = write_config(tmp_path / "scan.yaml", host_bed, known_hosts=kh, discover=False, hang=False, targets=(WEB2,))
    r = run_cli("scan", "--config", str(cfg), "--out", str(tmp_path / "out"), "--quiet")
    assert r.returncode == 3, r.stderr  # an error verdict: the result is partial
    assert "rc=100" in _facts(tmp_path / "out", WEB2)["answer"]["sections"]["updates"].splitlines()
    f = next(f for f in json.loads((tmp_path / "out" / "findings.json").read_text())
             if f["check_id"] == "host.security_updates" and f["resource_id"] == WEB2)
    assert f["status"] == "error" and "exit status 100" in f["message"] and "Could not get lock" in f["message"]


def test_auditctl_refusal_is_an_error_not_a_rule(host_bed, web02, tmp_path):
    kh = host_bed.known_hosts(tmp_path / "kh", only=[WEB2])
    cfg = write_config(tmp_path / "scan.yaml", host_bed, known_hosts=kh, discover=False, hang=False, targets=(WEB2,))
    run_cli("scan", "--config", str(cfg), "--out", str(tmp_path / "out"), "--quiet")
    audit = _facts(tmp_path / "out", WEB2)["answer"]["sections"]["audit"]
    assert "rules_rc=4" in audit.splitlines() and "rule: You must be root to run this program." in audit.splitlines()
    got = {(f["check_id"]): f for f in json.loads((tmp_path / "out" / "findings.json").read_text())
           if f["resource_id"] == WEB2}
    assert got["host.auditd"]["status"] == "error" and "unreadable" in got["host.auditd"]["message"]
    assert got["host.audit_protected"]["status"] == "error"
    assert got["host.admin_actions_audited"]["status"] == "error"
    assert got["host.audit_config_audited"]["status"] == "error"


# web02 configured by name: ~/.ssh/config maps web02-lab to its address; known_hosts is checked under both


def _by_name(host_bed, tmp_path, kh_lines: list[str], tofu: bool = False) -> dict:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "config").write_text(f"Host web02-lab\n  HostName {WEB2}\n")
    kh = tmp_path / "kh"
    kh.write_text("".join(line + "\n" for line in kh_lines))
    cfg = write_config(tmp_path / "scan.yaml", host_bed, known_hosts=kh, discover=False, hang=False,
                       targets=("web02-lab",), tofu=tofu)
    doc = json.loads(cfg.read_text())
    doc["hosts"][0]["ssh"]["use_ssh_config"] = True
    cfg.write_text(json.dumps(doc))
    run_cli("collect", "--config", str(cfg), "--out", str(tmp_path / "out"), "--quiet", env={"HOME": str(home)})
    return _facts(tmp_path / "out", WEB2)


def _key(h) -> str:
    return " ".join(h.host_pub.split()[:2])


def test_key_known_under_the_configured_name_is_verified(host_bed, web02, tmp_path):
    rec = _by_name(host_bed, tmp_path, [f"web02-lab {_key(web02)}"])
    assert rec["status"] == "ok", rec["error"]
    assert rec["answer"]["host_key"]["trusted_by"] == "known_hosts"
    assert rec["request"]["known_hosts_names"] == ["web02-lab", WEB2]


def test_key_changed_under_the_name_is_refused_even_with_tofu(host_bed, web02, tmp_path):
    """The address has no entry; the name lists another host's key: a MITM, not a first use."""
    rec = _by_name(host_bed, tmp_path, [f"web02-lab {_key(host_bed.compliant)}"], tofu=True)
    assert rec["status"] == "error" and "CHANGED" in rec["error"] and "web02-lab" in rec["error"], rec["error"]
    assert rec["answer"]["offered_key"]["sha256"].startswith("SHA256:")


def test_name_and_address_must_agree(host_bed, web02, tmp_path):
    rec = _by_name(host_bed, tmp_path, [f"web02-lab {_key(web02)}", f"{WEB2} {_key(host_bed.compliant)}"], tofu=True)
    assert rec["status"] == "error" and "CHANGED" in rec["error"] and WEB2 in rec["error"], rec["error"]


def _sessions(h) -> tuple[int, int]:
    """(sessions, session channels) sshd logged (LogLevel DEBUG1), as bench/hosts_bench.py counts them."""
    log = (h.dir / "sshd.log").read_text(errors="replace")
    return log.count("Accepted publickey"), log.count("server_input_channel_open: ctype session")


def test_one_session_per_host_however_it_is_listed(host_bed, web02, tmp_path):
    """web02 given three times (its name, its address twice) and also inside a range, without discovery:
    sshd counts one session with one channel, and there is one fact record and one host asset."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "config").write_text(f"Host web02-lab\n  HostName {WEB2}\n")
    kh = host_bed.known_hosts(tmp_path / "kh", only=[WEB2])
    cfg = write_config(tmp_path / "scan.yaml", host_bed, known_hosts=kh, discover=False, hang=False,
                       targets=("web02-lab", WEB2, WEB2, WEB2 + "/32"))
    doc = json.loads(cfg.read_text())
    doc["hosts"][0]["ssh"]["use_ssh_config"] = True
    cfg.write_text(json.dumps(doc))
    (web02.dir / "sshd.log").write_text("")
    r = run_cli("collect", "--config", str(cfg), "--out", str(tmp_path / "out"), "--quiet", env={"HOME": str(home)})
    assert r.returncode == 0, r.stderr
    assert _sessions(web02) == (1, 1)
    ev = evidence(tmp_path / "out")
    assert [e["source"] for e in ev].count(f"facts:{WEB2}") == 1
    plan = next(e for e in ev if e["source"] == "target")["answer"]
    assert plan["hosts"] == [WEB2] and plan["labels"] == {WEB2: "web02-lab"} and plan["names"] == {WEB2: ["web02-lab"]}
    inv = json.loads((tmp_path / "out" / "inventory.json").read_text())
    assert [a["id"] for a in inv["assets"] if a["type"] == "host"] == [WEB2]


# --------------------------------------------------------------------------- TLS services seen by nmap

def test_tls_versions_and_ciphers_seen_by_nmap(host_bed, tmp_path):
    """Real TLS listeners: web01:443 offers TLS 1.2/1.3 with ECDHE-AEAD only; db01:8443 also TLS 1.0/1.1 and
    anonymous ciphers. nmap's ssl-enum-ciphers sees both; host.tls_protocols judges them."""
    cfg = write_config(tmp_path / "scan.yaml", host_bed, known_hosts=host_bed.known, hang=False)
    doc = json.loads(cfg.read_text())
    doc["hosts"][0]["ports"] = [22, 443, 8443]
    cfg.write_text(json.dumps(doc))
    r = run_cli("scan", "--config", str(cfg), "--out", str(tmp_path / "out"), "--quiet", timeout=240)
    assert r.returncode in (0, 1), r.stderr
    inv = json.loads((tmp_path / "out" / "inventory.json").read_text())
    svc = {a["id"]: a["attributes"] for a in inv["assets"] if a["type"] == "host.service"}
    good, bad = svc[f"{WEB}:443/tcp"]["tls"], svc[f"{DB}:8443/tcp"]["tls"]
    assert set(good["versions"]) == {"TLSv1.2", "TLSv1.3"} and good["least_strength"] == "A"
    assert {"TLSv1.0", "TLSv1.1"} <= set(bad["versions"]) and bad["least_strength"] == "F"
    got = findings(tmp_path / "out")
    assert got[("host.tls_protocols", f"{WEB}:443/tcp")] == "pass"
    assert got[("host.tls_protocols", f"{DB}:8443/tcp")] == "fail"
    msg = next(f["message"] for f in json.loads((tmp_path / "out" / "findings.json").read_text())
               if f["check_id"] == "host.tls_protocols" and f["resource_id"] == f"{DB}:8443/tcp")
    assert "TLSv1.0" in msg


def test_discovery_probes_the_ports_the_profile_calls_high_risk(host_bed, tmp_path):
    """A profile naming port 4444 high-risk: nmap probes it without a `ports:` list, and the check sees it."""
    if not getattr(host_bed, "port_4444", False):
        host_bed.add_telnet(DB, 4444)
        host_bed.port_4444 = True
    cfg = write_config(tmp_path / "scan.yaml", host_bed, known_hosts=host_bed.known, hang=False, targets=(DB,))
    doc = json.loads(cfg.read_text())
    del doc["hosts"][0]["ports"]
    doc["profile"] = {"high_risk_ports": [23, 4444]}
    cfg.write_text(json.dumps(doc))
    r = run_cli("scan", "--config", str(cfg), "--out", str(tmp_path / "out"), "--quiet", timeout=240)
    assert r.returncode in (0, 1), r.stderr
    nmap = next(e for e in evidence(tmp_path / "out") if e["source"].startswith("nmap"))
    assert 4444 in nmap["request"]["ports"]
    f = next(f for f in json.loads((tmp_path / "out" / "findings.json").read_text())
             if f["check_id"] == "host.high_risk_ports" and f["resource_id"] == DB)
    assert f["status"] == "fail" and "4444" in f["message"], f
