"""Linux hosts, cryptography (通信传输、数据保密性): SSH and TLS as nmap saw them on the wire, password hash
algorithms, disk encryption when the profile asks for it."""
from __future__ import annotations

import re

from mlps_scan.plugins import CheckContext, check, error, failed, not_applicable, passed

TRANSIT = {1: ["L1-CNS1-01"], 2: ["L2-CNS1-03"], 3: ["L3-CNS1-06", "L3-CNS1-07", "L3-CES1-27"]}
WEAK_SSH = {
    "encryption_algorithms": re.compile(r"(-cbc|3des|arcfour|blowfish|cast128|^none$|rijndael)"),
    "mac_algorithms": re.compile(r"(md5|-96|hmac-sha1|umac-64|ripemd)"),
    "kex_algorithms": re.compile(r"(group1-sha1|group14-sha1|group-exchange-sha1|gss-.*sha1)"),
    "server_host_key_algorithms": re.compile(r"^(ssh-rsa|ssh-dss)$"),
}
TLS_ORDER = ["SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"]


@check(id="host.ssh_algorithms", title_en="SSH offers only strong algorithms (as seen by nmap)",
       title_zh="SSH通信采用安全的加密算法", controls=TRANSIT, asset_type="host.service", severity="high",
       remediation="Remove CBC/3DES ciphers, MD5/SHA-1 MACs, SHA-1 key exchange and ssh-rsa/ssh-dss host key "
                   "signatures from sshd (Ciphers/MACs/KexAlgorithms/HostKeyAlgorithms).",
       remediation_zh="从sshd配置（Ciphers/MACs/KexAlgorithms/HostKeyAlgorithms）中删除CBC/3DES加密算法、MD5/SHA-1 MAC、"
                      "SHA-1密钥交换以及ssh-rsa/ssh-dss主机密钥签名算法。")
def ssh_algorithms(asset, ctx: CheckContext):
    algs = asset.attributes.get("ssh_algorithms")
    if asset.attributes.get("service") != "ssh" and not algs:
        return None  # not an SSH service
    if not algs:
        return error("nmap's ssh2-enum-algos returned no algorithm list for this SSH service",
                     "nmap的ssh2-enum-algos未返回该SSH服务的算法列表")
    weak = {k: [a for a in algs.get(k, []) if rx.search(a)] for k, rx in WEAK_SSH.items()}
    weak = {k: v for k, v in weak.items() if v}
    if weak:
        shown = "; ".join(f"{k.split('_')[0]}: {', '.join(v)}" for k, v in weak.items())
        return failed("weak SSH algorithms offered: " + shown, "SSH提供弱算法：" + shown, details={"weak": weak})
    return passed("only strong SSH algorithms offered", "SSH仅提供安全的算法")


@check(id="host.tls_protocols", title_en="TLS services offer only the profile's protocol versions and strong ciphers",
       title_zh="TLS协议版本与密码套件安全", controls=TRANSIT, asset_type="host.service", params=["min_tls_version"],
       severity="high",
       remediation="Disable SSLv3/TLS 1.0/TLS 1.1 and ciphers graded below A (RC4, 3DES, export, NULL) on the service.",
       remediation_zh="在该服务上禁用SSLv3/TLS 1.0/TLS 1.1及评级低于A的密码套件（RC4、3DES、出口级、NULL）。")
def tls_protocols(asset, ctx: CheckContext):
    tls = asset.attributes.get("tls")
    if not tls:
        return None  # not a TLS service
    floor = TLS_ORDER.index(ctx.profile.min_tls_version)
    old = [v for v in tls.get("versions", []) if v in TLS_ORDER and TLS_ORDER.index(v) < floor]
    weak = sorted({c["name"] for c in tls.get("ciphers", []) if c.get("strength") not in (None, "A")})
    if old or weak:
        return failed("; ".join(([f"old protocols: {', '.join(old)}"] if old else []) +
                                ([f"weak ciphers: {', '.join(weak[:10])}"] if weak else [])),
                      "；".join(([f"过时的协议版本：{'、'.join(old)}"] if old else []) +
                               ([f"弱密码套件：{'、'.join(weak[:10])}"] if weak else [])),
                      details={"versions": tls.get("versions"), "weak_ciphers": weak})
    return passed(f"{', '.join(tls.get('versions', []))}; least cipher strength {tls.get('least_strength')}",
                  f"协议版本：{'、'.join(tls.get('versions', []))}；最弱密码套件评级{tls.get('least_strength')}")


@check(id="host.password_hashes", title_en="Passwords are stored with strong hashes (level 3)",
       title_zh="鉴别数据存储保密性（口令散列算法）", controls={3: ["L3-CES1-28"]}, asset_type="host",
       remediation="Set ENCRYPT_METHOD SHA512 (or YESCRYPT) and have users with MD5/DES hashes change their password.",
       remediation_zh="设置ENCRYPT_METHOD SHA512（或YESCRYPT），并要求使用MD5/DES散列的用户修改口令。")
def password_hashes(asset, ctx: CheckContext):
    acc = ctx.need(asset, "accounts")
    weak = sorted(u["name"] for u in acc.get("users", []) if u.get("hash_algorithm") in ("md5", "des", "other"))
    if weak:
        return failed(f"accounts with weak password hashes (MD5/DES): {', '.join(weak)}",
                      f"口令使用弱散列算法（MD5/DES）的账户：{'、'.join(weak)}", details={"accounts": weak})
    return passed(f"password hashes: {', '.join(acc.get('hash_algorithms') or ['none set'])}",
                  f"口令散列算法：{'、'.join(acc.get('hash_algorithms') or ['未设置'])}")


@check(id="host.disk_encryption", title_en="Data volumes are encrypted when the profile requires it",
       title_zh="重要数据存储加密（磁盘加密）", controls={3: ["L3-CES1-28"]}, asset_type="host",
       params=["require_disk_encryption"],
       remediation="Encrypt data volumes with LUKS (dm-crypt) and list them in /etc/crypttab.",
       remediation_zh="使用LUKS（dm-crypt）加密数据卷，并在/etc/crypttab中登记。")
def disk_encryption(asset, ctx: CheckContext):
    if not ctx.profile.require_disk_encryption:
        return not_applicable("the profile does not require disk encryption", "配置未要求磁盘加密")
    d = ctx.need(asset, "disk_encryption")
    if d.get("encrypted"):
        vols = d.get('crypt_devices') or d.get('crypttab') or []
        return passed(f"encrypted volumes: {', '.join(vols)}", f"已加密的卷：{'、'.join(vols)}")
    return failed("no encrypted volume (no crypttab entry, no dm-crypt/LUKS device)",
                  "没有加密卷（crypttab无条目，无dm-crypt/LUKS设备）")
