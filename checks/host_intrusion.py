"""Linux hosts, intrusion prevention and malware (入侵防范、恶意代码防范): high-risk ports and unneeded services,
pending security updates, anti-malware."""
from __future__ import annotations

from mlps_scan.plugins import CheckContext, check, error, failed, passed

UNNEEDED_SERVICES = ("telnet", "rsh", "rlogin", "rexec", "vsftpd", "proftpd", "tftp", "xinetd", "avahi-daemon",
                     "cups", "rpcbind", "nfs-server", "snmpd", "smb", "nmb", "ypbind", "talk")
EXTERNAL = lambda addr: not str(addr).startswith(("127.", "::1", "[::1]"))  # noqa: E731


@check(id="host.high_risk_ports", title_en="No high-risk ports open", title_zh="关闭高危端口",
       high_risk=[{"case": "6.4.3.1", "when": {"remote": {"nonempty": True}},
                   "basis": "a high-risk port open where the scan reached it (or not probed); one bound only where "
                            "the scan found it closed is not remotely accessible"}],
       controls={1: ["L1-CES1-07"], 2: ["L2-CES1-12"], 3: ["L3-CES1-18"]}, asset_type="host",
       params=["high_risk_ports"], severity="high",
       remediation="Stop the services behind high-risk ports or bind them to loopback, and block them at the firewall.",
       remediation_zh="停止高危端口对应的服务或将其绑定到回环地址，并在防火墙上封禁这些端口。")
def high_risk_ports(asset, ctx: CheckContext):
    risky = set(ctx.profile.high_risk_ports)
    seen = set(asset.attributes.get("open_ports") or [])
    listening = asset.attributes.get("listening")
    if listening is not None and "listening" not in asset.errors:
        seen |= {d["port"] for d in listening if d.get("protocol") == "tcp" and EXTERNAL(d.get("address", ""))}
    has_sockets = listening is not None and "listening" not in asset.errors
    if "open_ports" not in asset.attributes:
        ctx.need(asset, "listening")  # no nmap view: the host's own socket list is required
    bad = sorted(seen & risky)
    probed = asset.attributes.get("probed_ports")
    if bad:
        # remotely reachable: seen open by nmap, or listening where nmap did not probe (unknown); a port the
        # socket list shows but nmap probed and did not find open is not reachable from where the scan stood
        nmap_open = set(asset.attributes.get("open_ports") or [])
        no_probe = "open_ports" not in asset.attributes or probed is None
        remote = [p for p in bad if p in nmap_open or no_probe or p not in set(probed)]
        return failed(f"high-risk ports open: {', '.join(map(str, bad))}", f"开放了高危端口：{'、'.join(map(str, bad))}",
                      details={"ports": bad, "remote": remote})
    if not has_sockets and probed is not None and risky - set(probed):
        # judged with a profile that names ports the scan never probed, and no socket list to fill the gap
        from mlps_scan.plugins import EvidenceMissing
        gap = ', '.join(map(str, sorted(risky - set(probed))))
        raise EvidenceMissing(f"high-risk ports {gap} were not probed by nmap and the host's socket list is not available",
                              f"nmap未探测高危端口{gap}，且无法获得主机的监听端口列表")
    return passed(f"{len(seen)} open port(s), none on the high-risk list", f"开放{len(seen)}个端口，均不在高危端口列表中")


@check(id="host.unneeded_services", title_en="No unneeded network services running", title_zh="关闭不需要的系统服务",
       controls={1: ["L1-CES1-07"], 2: ["L2-CES1-12"], 3: ["L3-CES1-18"]}, asset_type="host",
       remediation="Disable services the host does not need (telnet, ftp, rsh, xinetd, avahi, cups, rpcbind...).",
       remediation_zh="停用主机不需要的服务（telnet、ftp、rsh、xinetd、avahi、cups、rpcbind等）。")
def unneeded_services(asset, ctx: CheckContext):
    running = ctx.need(asset, "services")
    bad = sorted(s for s in running if s.split(".")[0].split("@")[0] in UNNEEDED_SERVICES)
    if bad:
        return failed(f"unneeded services running: {', '.join(bad)}", f"运行着不需要的服务：{'、'.join(bad)}",
                      details={"services": bad})
    return passed(f"{len(running)} running service(s), none on the unneeded list", f"运行{len(running)}个服务，均不在非必要服务列表中")


@check(id="host.security_updates", title_en="No pending security updates", title_zh="及时修补已知漏洞",
       high_risk=[{"case": "6.4.3.2",
                   "basis": "pending security updates fix disclosed vulnerabilities (whether high-risk and "
                            "exploitable is the question)"}],
       controls={2: ["L2-CES1-15"], 3: ["L3-CES1-21"]}, asset_type="host", severity="high",
       remediation="Install the pending security updates after testing (apt/yum/dnf) and keep a patch schedule.",
       remediation_zh="经测试后安装待更新的安全补丁（apt/yum/dnf），并建立定期打补丁的计划。")
def security_updates(asset, ctx: CheckContext):
    u = ctx.need(asset, "updates")
    if u.get("manager") in (None, "none") or u.get("security_pending") is None or u.get("listing_ok") is False:
        why = u.get("problem") or f"package manager {u.get('manager') or 'not found'}"
        why_zh = u.get("problem") or f"包管理器：{u.get('manager') or '未找到'}"
        return error(f"patch state unknown: {why}", f"补丁状态未知：{why_zh}", details={"updates": u})
    n = u["security_pending"]
    if n:
        pkgs = ', '.join(u.get('packages') or [])[:300]
        return failed(f"{n} pending security update(s): {pkgs}", f"有{n}个待安装的安全更新：{pkgs}", details=u)
    return passed(f"{u['manager']}: no pending security update", f"{u['manager']}：没有待安装的安全更新")


@check(id="host.anti_malware", title_en="Anti-malware installed with current signatures", title_zh="恶意代码防范",
       high_risk=[{"case": "6.4.4.1", "when": {"installed": False},
                   "basis": "no anti-malware product"},
                  {"case": "6.4.4.1", "when": {"signature_age_days": {"gt": 30}},
                   "basis": "signatures older than a month (the guideline's limit, whatever the profile's)"}],
       controls={1: ["L1-CES1-08"], 2: ["L2-CES1-16"], 3: ["L3-CES1-23"]}, asset_type="host",
       params=["malware_signature_max_age_days"],
       remediation="Install an anti-malware product (ClamAV, a vendor EDR or HIDS) and keep its signatures younger "
                   "than the profile's maximum age (default 30 days).",
       remediation_zh="安装防恶意代码产品（ClamAV、厂商EDR或HIDS），并保持病毒库不超过配置的最长期限（默认30天）。", severity="high")
def anti_malware(asset, ctx: CheckContext):
    m = ctx.need(asset, "malware")
    if not m.get("installed"):
        return failed("no anti-malware product found", "未发现防恶意代码产品", details={"installed": False})
    age = m.get("signature_age_days")
    limit = ctx.profile.malware_signature_max_age_days
    if age is not None and age > limit:
        return failed(f"signatures are {age:g} days old (> {limit})", f"病毒库已{age:g}天未更新（超过{limit}天）",
                      details={"installed": True, "signature_age_days": age, "max_age_days": limit})
    products = m.get('products') or m.get('active_services') or []
    return passed(f"anti-malware: {', '.join(products)}" + (f", signatures {age:g} days old" if age is not None else ""),
                  f"防恶意代码产品：{'、'.join(products)}" + (f"，病毒库更新于{age:g}天前" if age is not None else ""))
