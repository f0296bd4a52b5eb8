"""Host checks and fact parsing on evidence alone (no root, no network): the recorded sample evidence of the
test bed (sample_inventories/acme-shop/recorded/hosts) is replayed through the hosts collector's `derive`, then
evaluated with different profiles; parsers are fed script sections directly."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlps_scan.catalogue import load
from mlps_scan.collectors.hosts import (SCRIPT_PATH, HostsCollector, parse_audit, parse_facts, parse_logging,
                                        parse_password, parse_sshd, split_sections)
from mlps_scan.evidence import Recorder
from mlps_scan.models import Asset, EvidenceRecord
from mlps_scan.plugins import CollectSession
from mlps_scan.profile import build_profile
from mlps_scan.runner import evaluate

from test_hosts_scan import EXPECTED

# the recorded sample was collected from the bed pinned to 127.0.213.x (scripts/record-hosts-sample)
WEB, DB = "127.0.213.11", "127.0.213.12"

RECORDED = Path(__file__).resolve().parent.parent / "sample_inventories" / "acme-shop" / "recorded" / "hosts"


@pytest.fixture(scope="module")
def inventory(tmp_path_factory):
    recs = [EvidenceRecord.model_validate_json(p.read_text()) for p in sorted(RECORDED.glob("*.json"))]
    assert recs, "recorded host evidence missing"
    s = CollectSession("hosts", recs[0].target, Recorder(tmp_path_factory.mktemp("rec")), base_dir=Path("."))
    HostsCollector().derive(recs, s)
    from mlps_scan.models import Inventory
    return Inventory(assets=s.assets, coverage=s.coverage_records)


def verdicts(inv, level=3, **profile):
    fs = evaluate(inv, level, build_profile(level, profile or None), load())
    return {(f.check_id, f.resource_id): f for f in fs if f.check_id.startswith("host.")}


@pytest.mark.parametrize("check_id", sorted(EXPECTED))
def test_recorded_bed_gives_the_same_verdicts_offline(inventory, check_id):
    got = verdicts(inventory)
    assert (got[(check_id, WEB)].status.value, got[(check_id, DB)].status.value) == EXPECTED[check_id]


def test_levels_map_to_their_own_catalogue_ids(inventory):
    for level in (1, 2, 3):
        for f in verdicts(inventory, level).values():
            assert all(c.startswith(f"L{level}-") for c in f.control_ids), (f.check_id, f.control_ids)
    l1 = verdicts(inventory, 1)
    assert ("host.mfa", WEB) not in l1 and ("host.auditd", WEB) not in l1  # level 3 / level 2+ only


def test_profile_thresholds_change_verdicts(inventory):
    strict = verdicts(inventory, password_min_length=12, lockout_attempts=3, idle_timeout_seconds=300,
                      log_retention_days=365, require_disk_encryption=True, require_mfa=False)
    assert strict[("host.password_complexity", WEB)].status.value == "fail"  # minlen 10 < 12
    assert strict[("host.login_lockout", WEB)].status.value == "fail"  # deny 5 > 3
    # TMOUT 600 > 300; sshd's ClientAliveInterval 300 is a keepalive, not an idle timeout
    assert strict[("host.idle_timeout", WEB)].status.value == "fail"
    assert "TMOUT=600s" in strict[("host.idle_timeout", WEB)].message
    assert "ClientAliveInterval 300" in strict[("host.idle_timeout", WEB)].message
    assert strict[("host.log_retention", WEB)].status.value == "fail"  # 189 < 365
    assert strict[("host.disk_encryption", WEB)].status.value == "pass"  # crypttab + LUKS
    assert strict[("host.disk_encryption", DB)].status.value == "fail"
    assert strict[("host.mfa", WEB)].status.value == "not_applicable"


def test_ssh_algorithms_and_tls_on_services():
    from mlps_scan.models import Inventory
    svc = [Asset(type="host.service", id="10.0.0.5:443/tcp", scope="hosts/t/10.0.0.5",
                 attributes={"address": "10.0.0.5", "port": 443, "service": "https",
                             "tls": {"versions": ["TLSv1.0", "TLSv1.2"], "least_strength": "C",
                                     "ciphers": [{"version": "TLSv1.0", "name": "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "strength": "C"},
                                                 {"version": "TLSv1.2", "name": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "strength": "A"}]}}),
           Asset(type="host.service", id="10.0.0.6:443/tcp", scope="hosts/t/10.0.0.6",
                 attributes={"address": "10.0.0.6", "port": 443, "service": "https",
                             "tls": {"versions": ["TLSv1.2", "TLSv1.3"], "least_strength": "A",
                                     "ciphers": [{"version": "TLSv1.3", "name": "TLS_AKE_WITH_AES_256_GCM_SHA384", "strength": "A"}]}}),
           Asset(type="host.service", id="10.0.0.7:22/tcp", scope="hosts/t/10.0.0.7",
                 attributes={"address": "10.0.0.7", "port": 22, "service": "ssh"})]
    got = verdicts(Inventory(assets=svc))
    assert got[("host.tls_protocols", "10.0.0.5:443/tcp")].status.value == "fail"
    assert "TLSv1.0" in got[("host.tls_protocols", "10.0.0.5:443/tcp")].message
    assert got[("host.tls_protocols", "10.0.0.6:443/tcp")].status.value == "pass"
    # an SSH service nmap could not enumerate is not a pass
    assert got[("host.ssh_algorithms", "10.0.0.7:22/tcp")].status.value == "error"
    assert ("host.ssh_algorithms", "10.0.0.5:443/tcp") not in got


def test_sshd_config_file_fallback_uses_openssh_defaults():
    ssh = parse_sshd("source=files\n/etc/ssh/sshd_config: Port 22\n/etc/ssh/sshd_config: PermitRootLogin no\n"
                     "/etc/ssh/sshd_config: PermitRootLogin yes\n/etc/ssh/sshd_config: Match User bob\n"
                     "/etc/ssh/sshd_config:   PasswordAuthentication no\n")
    assert ssh["permit_root_login"] == "no"  # first value wins in sshd_config
    assert ssh["password_authentication"] is True  # default; the Match block does not apply globally
    t = parse_sshd("source=sshd-T\npermitrootlogin without-password\npasswordauthentication no\nciphers aes256-ctr\n")
    assert t["permit_root_login"] == "without-password" and t["ciphers"] == ["aes256-ctr"]


def test_pam_parsing_cracklib_credits_and_tally2():
    pp, lock, _ = parse_password(
        "/etc/login.defs: PASS_MAX_DAYS 60\n",
        "/etc/pam.d/common-password: password requisite pam_cracklib.so minlen=9 dcredit=-1 ucredit=-1 ocredit=-1\n"
        "/etc/pam.d/common-auth: auth required pam_tally2.so deny=6 unlock_time=300\n")
    assert (pp["quality_module"], pp["min_length"], pp["min_classes"], pp["max_days"]) == ("pam_cracklib", 9, 3, 60)
    assert (lock["module"], lock["deny"], lock["unlock_time"]) == ("pam_tally2", 6, 300)


def test_logging_and_audit_parsing():
    lg = parse_logging("rsyslog active\n/etc/rsyslog.d/50-remote.conf: *.* action(type=\"omfwd\" target=\"10.1.1.1\" port=\"514\" protocol=\"tcp\")\n"
                       "logrotate-global /etc/logrotate.conf: daily\nlogrotate-global /etc/logrotate.conf: rotate 200\n"
                       "logrotate-syslog /etc/logrotate.d/rsyslog: maxage 190\n")
    assert lg["remote_targets"] == ["10.1.1.1"] and lg["retention_days"] == 190
    au = parse_audit("auditd active\nstatus: enabled 1\nrule: No rules\n")
    assert au["active"] and au["rule_count"] == 0 and not au["immutable"]


def test_cut_off_script_output_is_incomplete():
    out = "@@MLPS@@ meta\nuid=0\nhostname=x\n@@MLPS@@ os_release\nID=debian\n"
    sec = split_sections(out)
    assert "end" not in sec
    f = parse_facts(sec)
    assert f["hostname"] == "x" and f["os"]["id"] == "debian"


# --------------------------------------------------------------------------- fact fixtures -> one host's verdicts


def host_verdicts(level=3, profile=None, **sections) -> dict:
    """The host checks' verdicts on one host whose facts are the given script sections (parsed as collected)."""
    from mlps_scan.models import Inventory
    facts = parse_facts(sections)
    errors = facts.pop("_errors", {})
    a = Asset(type="host", id="10.9.9.9", scope="hosts/t/10.9.9.9", attributes={"address": "10.9.9.9", **facts},
              errors=errors)
    fs = evaluate(Inventory(assets=[a]), level, build_profile(level, profile), load())
    return {f.check_id: f for f in fs if f.resource_id == "10.9.9.9"}


def run_script_section(name: str, tmp_path: Path, stubs: dict[str, str]) -> str:
    """Run one section of the real hosts_facts.sh with stub commands (executables first on PATH; `have` sees only
    the stubs, so the branch taken is the stubbed package manager's). Returns the section's output."""
    text = SCRIPT_PATH.read_text()
    body = text[text.index(f"\ns {name}\n") + 1:]
    body = body[:body.index("\ns ", 1)]
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for cmd, code in stubs.items():
        (bindir / cmd).write_text("#!/bin/sh\n" + code)
        (bindir / cmd).chmod(0o755)
    header = text[:text.index("\ns meta\n") + 1]  # the script's helpers: s, have, cfg, svc
    prelude = header + (f'PATH={bindir}:/usr/bin:/bin; export PATH\n'
                        f'have() {{ [ -x "{bindir}/$1" ]; }}\n')
    r = subprocess.run(["/bin/sh", "-c", prelude + body], capture_output=True, text=True, timeout=30)
    assert not r.stderr.strip(), r.stderr  # the section ran without shell errors (its exit status is a grep's)
    return split_sections(r.stdout)[name]


@pytest.mark.parametrize("updates,status", [
    ("manager=apt\nrc=100\nerror=E: Could not get lock /var/lib/dpkg/lock-frontend\nsecurity=0", "error"),
    ("manager=apt\nsecurity=0", "error"),  # exit status not recorded: the listing may have failed
    ("manager=apt\nrc=0", "error"),  # no count
    ("", "error"),  # no listing at all
    ("manager=none", "error"),
    ("manager=zypper\nrc=4\nsecurity=0", "error"),
    ("manager=dnf\nrc=1\nsecurity=0", "error"),
    ("manager=apt\nrc=0\nsecurity=0", "pass"),
    ("manager=zypper\nrc=0\nsecurity=0", "pass"),
    ("manager=zypper\nrc=101\nsecurity=1\npkg=SUSE-2024-1", "fail"),  # 101: security patches needed
    ("manager=yum\nrc=0\nsecurity=2\npkg=openssl\npkg=bash", "fail"),
])
def test_security_updates_pass_only_on_a_listing_that_worked(updates, status):
    f = host_verdicts(updates=updates)["host.security_updates"]
    assert f.status.value == status, f.message
    if status == "error":
        assert f.message.startswith("patch state unknown")
    if "rc=100" in updates:
        assert "exit status 100" in f.message and "Could not get lock" in f.message


def test_script_records_the_exit_status_of_a_failing_apt(tmp_path):
    out = run_script_section("updates", tmp_path, {
        "apt-get": "echo 'E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242' >&2\n"
                   "echo 'Inst openssl [1.0] (1.1 Debian-Security:12/stable-security [amd64])'\nexit 100\n"})
    assert "rc=100" in out.splitlines() and "error=E: Could not get lock" in out
    f = host_verdicts(updates=out)["host.security_updates"]
    assert f.status.value == "error" and "exit status 100" in f.message


def test_script_lists_apt_security_updates_with_their_exit_status(tmp_path):
    out = run_script_section("updates", tmp_path, {
        "apt-get": "echo 'Inst openssl [1.0] (1.1 Debian-Security:12/stable-security [amd64])'\n"
                   "echo 'Inst vim [9.0] (9.1 Debian:12/stable [amd64])'\n"})
    assert out.splitlines() == ["manager=apt", "rc=0", "security=1", "pkg=openssl"]
    assert host_verdicts(updates=out)["host.security_updates"].status.value == "fail"


def test_script_asks_zypper_without_refresh(tmp_path):
    args = tmp_path / "zypper-args"
    table = ("Repository | Name | Category | Severity | Interactive | Status | Summary\n"
             "-----------+------+----------+----------+-------------+--------+--------\n"
             "SLE-Updates | SUSE-SLE-2024-101 | security | important | --- | needed | openssl\n"
             "SLE-Updates | SUSE-SLE-2024-102 | security | moderate | --- | needed | curl\n")
    out = run_script_section("updates", tmp_path, {
        "zypper": f'echo "$*" > {args}\ncat <<"EOT"\n{table}EOT\nexit 101\n'})
    used = args.read_text().split()
    assert "--no-refresh" in used and used.index("--no-refresh") < used.index("list-patches")  # a global option
    assert out.splitlines() == ["manager=zypper", "rc=101", "security=2", "pkg=SUSE-SLE-2024-101", "pkg=SUSE-SLE-2024-102"]
    assert host_verdicts(updates=out)["host.security_updates"].status.value == "fail"


# --------------------------------------------------------------------------- known_hosts: every name and the address


def test_known_hosts_patterns_cover_names_and_address():
    from mlps_scan.collectors.hosts import known_hosts_patterns
    assert known_hosts_patterns(["web01.corp", "web01"], "10.0.0.5", 22) == ["web01.corp", "web01", "10.0.0.5"]
    assert known_hosts_patterns(["web01"], "10.0.0.5", 2222) == ["[web01]:2222", "[10.0.0.5]:2222"]
    assert known_hosts_patterns([], "10.0.0.5", 22) == ["10.0.0.5"]


@pytest.mark.parametrize("lines,port,verdict", [
    (["web01 {good}"], 22, "known"),  # listed under the configured name only
    (["10.0.0.5 {good}"], 22, "known"),
    (["web01,10.0.0.5 {good}"], 22, "known"),
    (["web01 {other}"], 22, "changed"),  # changed under the name, the address unlisted: refused, not TOFU
    (["web01 {good}", "10.0.0.5 {other}"], 22, "changed"),  # the address disagrees with the name
    (["web01 {other}", "10.0.0.5 {good}"], 22, "changed"),
    (["[web01]:2222 {good}"], 2222, "known"),
    (["[web01]:2222 {other}"], 2222, "changed"),
    (["web01 {other}"], 2222, "unknown"),  # port 22's entry says nothing about port 2222
    (["db01 {other}"], 22, "unknown"),
])
def test_host_key_is_verified_under_every_name_and_the_address(tmp_path, lines, port, verdict):
    import paramiko
    from mlps_scan.collectors.hosts import known_hosts_patterns, verify_host_key
    good, other = paramiko.ECDSAKey.generate(), paramiko.ECDSAKey.generate()
    fmt = {"good": f"{good.get_name()} {good.get_base64()}", "other": f"{other.get_name()} {other.get_base64()}"}
    kh = tmp_path / "known_hosts"
    kh.write_text("".join(line.format(**fmt) + "\n" for line in lines))
    keys = paramiko.HostKeys(str(kh))
    got, why = verify_host_key(keys, known_hosts_patterns(["web01"], "10.0.0.5", port), good)
    assert got == verdict
    if verdict == "changed":
        assert "CHANGED" in why and ("web01" in why or "10.0.0.5" in why)


# --------------------------------------------------------------------------- idle timeout: the shell's TMOUT

KEEPALIVE = "source=sshd-T\nclientaliveinterval 300\nclientalivecountmax 0"


@pytest.mark.parametrize("tmout,status,needle", [
    ("", "fail", "keepalive"),  # ClientAlive* alone: dead-connection detection, not an idle logout
    ("/etc/profile.d/tmout.sh: TMOUT=600\n/etc/profile.d/tmout.sh: readonly TMOUT\n/etc/profile.d/tmout.sh: export TMOUT",
     "pass", "readonly and exported"),
    ("/etc/profile: TMOUT=300; readonly TMOUT; export TMOUT", "pass", "TMOUT=300s"),
    ("/etc/profile: declare -rx TMOUT=600", "pass", "readonly"),
    ("/etc/profile: export TMOUT=600", "pass", "not readonly"),
    ("/etc/profile: readonly TMOUT=600", "pass", "readonly"),
    ("/etc/profile: TMOUT=600", "fail", "neither readonly nor exported"),
    ("/etc/profile: TMOUT=900\n/etc/profile: readonly TMOUT", "fail", "> 600s"),
    ("/etc/profile: TMOUT=0\n/etc/profile: export TMOUT", "fail", "disabled"),
])
def test_idle_timeout_needs_the_shell_tmout(tmout, status, needle):
    f = host_verdicts(sshd=KEEPALIVE, tmout=tmout)["host.idle_timeout"]
    assert f.status.value == status, f.message
    assert needle in f.message, f.message
    if status == "fail":
        assert "ClientAliveInterval 300" in f.message  # mentioned, but not accepted


def test_idle_timeout_without_keepalive_does_not_mention_it():
    f = host_verdicts(sshd="source=sshd-T\nclientaliveinterval 0", tmout="")["host.idle_timeout"]
    assert f.status.value == "fail" and "ClientAlive" not in f.message and "TMOUT unset" in f.message


# --------------------------------------------------------------------------- control mapping


def test_uid0_accounts_maps_to_access_control_surplus_accounts_and_least_privilege():
    """A second uid-0 account is a surplus/hidden superuser (访问控制 c) and breaks least privilege (访问控制 d,
    levels 2-3 only). It was mapped to L1-CES1-03 (accounts and permissions assigned to users: item a)."""
    from mlps_scan.plugins import checks
    spec = checks()["host.uid0_accounts"]
    assert spec.controls == {1: ["L1-CES1-05"], 2: ["L2-CES1-06", "L2-CES1-07"], 3: ["L3-CES1-07", "L3-CES1-08"]}
    cat = load()
    items = {level: {cat.get(c).clause for c in ids} for level, ids in spec.controls.items()}
    assert items == {1: {"6.1.4.2 c)"}, 2: {"7.1.4.2 c)", "7.1.4.2 d)"}, 3: {"8.1.4.2 c)", "8.1.4.2 d)"}}
    for ids in spec.controls.values():
        assert {cat.get(c).control_point.en for c in ids} == {"Access control"}
    # the same requirement at every level: the level-3 surplus-account item is the one the level-1 id maps to
    assert cat.get("L1-CES1-05").title.zh == cat.get("L3-CES1-07").title.zh


# --------------------------------------------------------------------------- anti-malware signature age: a profile parameter

DAY = 86400


def _malware(age_days: float) -> str:
    now = 1_800_000_000
    return f"cmd=clamscan\nclamav-daemon active\nsignatures=/var/lib/clamav/daily.cld {now - int(age_days * DAY)}\nnow={now}"


@pytest.mark.parametrize("age,profile,status", [
    (10, None, "pass"),
    (31, None, "fail"),  # default maximum: 30 days
    (10, {"malware_signature_max_age_days": 7}, "fail"),  # a stricter assessor (some ask for one week)
    (45, {"malware_signature_max_age_days": 60}, "pass"),
])
def test_signature_age_limit_comes_from_the_profile(age, profile, status):
    f = host_verdicts(profile=profile, malware=_malware(age))["host.anti_malware"]
    assert f.status.value == status, f.message
    if status == "fail":
        limit = (profile or {}).get("malware_signature_max_age_days", 30)
        assert f.message == f"signatures are {age:g} days old (> {limit})"


def test_signature_age_parameter_is_declared_and_defaults_to_30():
    from mlps_scan.models import Profile
    from mlps_scan.plugins import checks
    assert "malware_signature_max_age_days" in checks()["host.anti_malware"].params
    assert Profile().malware_signature_max_age_days == 30
    assert {build_profile(level).malware_signature_max_age_days for level in (1, 2, 3)} == {30}


# --------------------------------------------------------------------------- auditctl without privilege

NOT_ROOT = "You must be root to run this program."


@pytest.mark.parametrize("audit,auditd,protected,needle", [
    # as recorded before the exit status was (no rc lines): the message must not count as a rule
    (f"auditd active\nstatus: {NOT_ROOT}\nrule: {NOT_ROOT}", "error", "error", "unreadable"),
    (f"auditd active\nstatus_rc=4\nstatus: {NOT_ROOT}\nrules_rc=4\nrule: {NOT_ROOT}", "error", "error", "exit status 4"),
    ("auditd active\nstatus_rc=255\nstatus: Error sending status request (Operation not permitted)\n"
     "rules_rc=255\nrule: Error sending rule list data request (Operation not permitted)", "error", "error", "Operation not permitted"),
    ("auditd active\nstatus_rc=0\nstatus: enabled 1\nrules_rc=0\nrule: No rules", "fail", "fail", "no rules loaded"),
    ("auditd active\nstatus_rc=0\nstatus: enabled 2\nrules_rc=0\nrule: -w /etc/passwd -p wa -k identity\n"
     "rule: -w /var/log/lastlog -p wa -k logins\nrule: -a always,exit -F arch=b64 -S execve -F euid=0 -k privileged",
     "pass", "pass", "3 rules"),
    (f"auditd inactive\nstatus_rc=4\nstatus: {NOT_ROOT}\nrules_rc=4\nrule: {NOT_ROOT}", "fail", "fail", "not running"),
])
def test_unprivileged_auditctl_is_unreadable_not_a_rule(audit, auditd, protected, needle):
    v = host_verdicts(audit=audit)
    assert (v["host.auditd"].status.value, v["host.audit_protected"].status.value) == (auditd, protected), \
        (v["host.auditd"].message, v["host.audit_protected"].message)
    assert needle in v["host.auditd"].message
    a = parse_audit(audit)
    assert NOT_ROOT not in a["rules"] and not any("Operation not permitted" in r for r in a["rules"])


def test_script_records_auditctl_refusing_a_non_root_user(tmp_path):
    out = run_script_section("audit", tmp_path, {
        "systemctl": 'for u in "$@"; do :; done\n[ "$1" = is-active ] && echo active\n',
        "auditctl": f"echo '{NOT_ROOT}' >&2\nexit 4\n"})
    assert "rules_rc=4" in out.splitlines() and "status_rc=4" in out.splitlines()
    a = parse_audit(out)
    assert a["active"] and not a["rules_readable"] and a["rule_count"] == 0 and NOT_ROOT in a["rules_error"]
    assert host_verdicts(audit=out)["host.auditd"].status.value == "error"


def test_high_risk_ports_the_scan_never_probed_are_not_passed(inventory):
    """The recorded bed was probed on 22, 23 and 3389 only. Re-checked with a profile that adds 4444: where the
    host's own socket list is there, it answers; where only nmap's view is, the verdict is an error."""
    from mlps_scan.models import Inventory
    host = next(a for a in inventory.assets if a.type == "host" and a.id == WEB)
    assert host.attributes["probed_ports"] == [22, 23, 3389]
    v = verdicts(inventory, high_risk_ports=[23, 4444])
    assert v[("host.high_risk_ports", WEB)].status.value == "pass"  # ss lists every socket: 4444 is not among them
    nmap_only = host.model_copy(update={"attributes": {k: x for k, x in host.attributes.items() if k != "listening"},
                                        "errors": {**host.errors, "listening": "facts: unreachable"}})
    inv = Inventory(assets=[nmap_only], coverage=inventory.coverage)
    v = verdicts(inv, high_risk_ports=[23, 4444])
    assert v[("host.high_risk_ports", WEB)].status.value == "error" and "4444" in v[("host.high_risk_ports", WEB)].message
    assert verdicts(inv, high_risk_ports=[23])[("host.high_risk_ports", WEB)].status.value == "pass"


# --------------------------------------------------------------------------- issue 15: boundary and management


def test_sections_an_older_fact_script_did_not_print_are_errors_not_failures():
    """Evidence recorded before the auth_logging, fw_state and perms sections existed re-checks as `error` for
    the checks that need them (never a fail or a pass read from nothing)."""
    v = host_verdicts(sshd="source=sshd-T\nloglevel INFO", firewall="firewalld active\nfirewalld_state=not running\n"
                      "iptables: -P INPUT DROP\niptables: -A INPUT -p tcp --dport 22 -j ACCEPT")
    assert v["host.remote_access_logging"].status.value == "error"
    assert v["host.policy_files_protected"].status.value == "error"
    assert v["host.firewall_stateful"].status.value == "error"


@pytest.mark.parametrize("rsyslog,loglevel,status,needle", [
    ("/etc/rsyslog.conf: authpriv.* /var/log/secure", "VERBOSE", "pass", "/var/log/secure"),
    ("/etc/rsyslog.conf: auth,authpriv.*\t/var/log/auth.log", "INFO", "pass", "/var/log/auth.log"),
    ("/etc/rsyslog.conf: *.info;mail.none;authpriv.none /var/log/messages", "INFO", "fail", "no log receives"),
    ("/etc/rsyslog.conf: *.info /var/log/messages", "INFO", "fail", "no log receives"),  # mixed in, not on its own
    ("/etc/rsyslog.conf: authpriv.* /var/log/secure", "QUIET", "fail", "LogLevel QUIET"),
    ("/etc/systemd/journald.conf: Storage=persistent", "INFO", "pass", "persistent journal"),
])
def test_remote_access_logging_needs_a_login_record_of_its_own(rsyslog, loglevel, status, needle):
    v = host_verdicts(sshd=f"source=sshd-T\nloglevel {loglevel}", auth_logging=rsyslog, perms="", fw_state="")
    f = v["host.remote_access_logging"]
    assert f.status.value == status and needle in f.message, f.message
    assert f.message_zh and f.resource_name == "10.9.9.9"


def test_script_sections_for_auth_logging_state_rules_and_permissions(tmp_path):
    out = run_script_section("fw_state", tmp_path, {
        "iptables": "printf -- '-P INPUT DROP\\n-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\\n"
                    "-A INPUT -m state --state NEW -p tcp --dport 22 -j ACCEPT\\n'\n"})
    assert "iptables_state=2" in out.splitlines()
    (tmp_path / "p").mkdir()
    perms = run_script_section("perms", tmp_path / "p", {"stat": 'echo "$3 root root 644"\n'})
    assert "/etc/passwd root root 644" in perms.splitlines()


@pytest.mark.parametrize("iptables,outbound,stateful", [
    ("-P INPUT DROP\n-P OUTPUT DROP\n-A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT", "pass", "pass"),
    ("-P INPUT DROP\n-P OUTPUT ACCEPT\n-A INPUT -m state --state ESTABLISHED -j ACCEPT\n-A OUTPUT -j REJECT", "pass", "pass"),
    ("-P INPUT ACCEPT\n-P OUTPUT ACCEPT\n-A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT", "fail", "fail"),
    ("-P INPUT DROP\n-P OUTPUT ACCEPT\n-A INPUT -p tcp --dport 22 -j ACCEPT", "fail", "fail"),
])
def test_outbound_and_stateful_filtering(iptables, outbound, stateful):
    state = sum("state" in line for line in iptables.splitlines())
    v = host_verdicts(firewall="\n".join("iptables: " + line for line in iptables.splitlines()),
                      fw_state=f"iptables_state={state}", auth_logging="", perms="")
    assert (v["host.outbound_filtering"].status.value, v["host.firewall_stateful"].status.value) == (outbound, stateful), \
        (v["host.outbound_filtering"].message, v["host.firewall_stateful"].message)


def test_admin_and_audit_admin_operations_audited():
    base = "auditd active\nstatus_rc=0\nstatus: enabled 1\nrules_rc=0\n"
    full = base + "\n".join("rule: " + r for r in (
        "-a always,exit -F arch=b64 -S execve -F euid=0 -k privileged", "-w /etc/group -p wa -k identity",
        "-a always,exit -F arch=b64 -S clock_settime -k time-change", "-w /etc/sudoers.d/ -p wa -k scope",
        "-w /sbin/auditctl -p x -k audittools"))
    v = host_verdicts(audit=full)
    assert v["host.admin_actions_audited"].status.value == "pass"
    assert v["host.audit_config_audited"].status.value == "pass"
    partial = base + "rule: -w /etc/passwd -p wa -k identity"
    v = host_verdicts(audit=partial)
    f = v["host.admin_actions_audited"]
    assert f.status.value == "fail" and "privileged command execution" in f.message and "特权命令执行" in f.message_zh
    assert v["host.audit_config_audited"].status.value == "fail"


def test_policy_files_owned_by_root_and_not_writable_by_others():
    ok = "/etc/passwd root root 644\n/etc/shadow root shadow 640\n/etc/sudoers root root 440"
    assert host_verdicts(perms=ok)["host.policy_files_protected"].status.value == "pass"
    bad = host_verdicts(perms="/etc/passwd root root 664\n/etc/shadow root root 644\n/etc/pam.d deploy root 755")
    f = bad["host.policy_files_protected"]
    assert f.status.value == "fail"
    assert "/etc/passwd writable by group/others (0664)" in f.message and "/etc/shadow readable by everyone" in f.message
    assert "/etc/pam.d owned by deploy" in f.message
