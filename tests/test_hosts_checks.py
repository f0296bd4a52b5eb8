"""Host checks and fact parsing on evidence alone (no root, no network): the recorded sample evidence of the
test bed (sample_inventories/acme-shop/recorded/hosts) is replayed through the hosts collector's `derive`, then
evaluated with different profiles; parsers are fed script sections directly."""
from __future__ import annotations

from pathlib import Path

import pytest

from mlps_scan.catalogue import load
from mlps_scan.collectors.hosts import (HostsCollector, parse_audit, parse_facts, parse_logging, parse_password,
                                        parse_sshd, split_sections)
from mlps_scan.evidence import Recorder
from mlps_scan.models import Asset, EvidenceRecord
from mlps_scan.plugins import CollectSession
from mlps_scan.profile import build_profile
from mlps_scan.runner import evaluate

from test_hosts_scan import DB, EXPECTED, WEB

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
    assert strict[("host.idle_timeout", WEB)].status.value == "pass"  # ClientAliveInterval 300 x max(0,1) <= 300
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
