"""Linux hosts at the boundary (安全区域边界): outbound connections restricted by the host firewall, stateful
filtering, and remote-access logins logged where they can be audited on their own (level 3)."""
from __future__ import annotations

from mlps_scan.plugins import CheckContext, check, error, failed, passed


def _firewall(asset, ctx: CheckContext) -> dict:
    fw = ctx.need(asset, "firewall")
    return fw or {}


@check(
    id="host.outbound_filtering",
    title_en="The host firewall denies outbound connections by default (level 3)",
    title_zh="主机防火墙默认拒绝出站连接，限制内部用户非授权外联",
    controls={3: ["L3-ABS1-03"]},
    asset_type="host",
    remediation="Set the OUTPUT chain policy to DROP (iptables -P OUTPUT DROP, or an nftables output hook with policy "
                "drop) and allow only the destinations and ports the host needs (update mirrors, log collector, "
                "time servers, dependent services).",
    remediation_zh="将OUTPUT链默认策略设为DROP（iptables -P OUTPUT DROP，或nftables output钩子policy drop），仅放行主机"
                   "必需的目的地址和端口（软件源、日志服务器、时间服务器、依赖的业务服务）。",
    shows={"L3-ABS1-03": ("the host itself refuses outbound connections nobody allowed (default-deny OUTPUT): "
                          "unauthorised connections to external networks are restricted at the host",
                          "主机本身拒绝未经允许的出站连接（OUTPUT默认拒绝），在主机层面限制非授权外联")},
)
def outbound_filtering(asset, ctx: CheckContext):
    fw = _firewall(asset, ctx)
    policy = fw.get("output_policy")
    if policy in ("DROP", "REJECT"):
        return passed(f"OUTPUT policy {policy}: only allowed outbound connections leave the host",
                      f"OUTPUT默认策略为{policy}：仅放行允许的出站连接")
    if fw.get("output_catch_all_drop"):
        return passed("the OUTPUT chain ends with a catch-all DROP/REJECT rule",
                      "OUTPUT链末尾有兜底的DROP/REJECT规则")
    if not fw.get("active"):
        return failed("no host firewall is active: outbound connections are not restricted",
                      "未启用主机防火墙，出站连接不受限制")
    return failed(f"outbound connections are allowed to anywhere (OUTPUT policy {policy or 'ACCEPT (default)'})",
                  f"出站连接不受限制（OUTPUT策略为{policy or 'ACCEPT（默认）'}）",
                  details={"output_policy": policy})


@check(
    id="host.firewall_stateful",
    title_en="The host firewall filters by session state and denies inbound by default",
    title_zh="主机防火墙基于会话状态进行访问控制且入站默认拒绝",
    controls={2: ["L2-ABS1-05"], 3: ["L3-ABS1-08"]},
    asset_type="host",
    remediation="Load a default-deny inbound policy with a connection-tracking rule (iptables -A INPUT -m conntrack "
                "--ctstate ESTABLISHED,RELATED -j ACCEPT, or nftables `ct state established,related accept`), or run "
                "firewalld/ufw, which do this.",
    remediation_zh="配置入站默认拒绝策略并加入基于连接跟踪的规则（iptables -A INPUT -m conntrack --ctstate "
                   "ESTABLISHED,RELATED -j ACCEPT，或nftables `ct state established,related accept`），或启用自带该机制的"
                   "firewalld/ufw。",
    shows={"L2-ABS1-05 L3-ABS1-08": ("the host firewall allows or denies flows by their connection state "
                                     "(conntrack ESTABLISHED/RELATED rules, firewalld/ufw) over a default-deny "
                                     "inbound policy",
                                     "主机防火墙依据连接状态（conntrack ESTABLISHED/RELATED规则、firewalld/ufw）"
                                     "对进出数据流明确允许或拒绝，入站默认拒绝")},
)
def firewall_stateful(asset, ctx: CheckContext):
    fw = _firewall(asset, ctx)
    if not fw.get("active"):
        return failed("no host firewall is active", "未启用主机防火墙")
    managed = fw.get("firewalld") == "running" or "active" in str(fw.get("ufw") or "").lower().split()
    state = fw.get("state_rules")
    if managed:
        return passed("firewalld/ufw active: their zones accept established and related flows and deny the rest",
                      "firewalld/ufw已启用：放行已建立及相关连接，其余默认拒绝")
    if state is None:
        return error("the rule set's connection-state rules were not collected (older fact script)",
                     "未采集防火墙的会话状态规则（采集脚本版本较旧）")
    count = (state.get("iptables_state") or 0) + (state.get("nft_ct_state") or 0)
    if count == 0:
        return failed("the firewall has no connection-state rules: flows are not judged by session state",
                      "防火墙没有基于连接状态的规则，未按会话状态控制数据流")
    if fw.get("input_policy") not in ("DROP", "REJECT"):
        return failed(f"{count} connection-state rule(s), but inbound is allowed by default "
                      f"(INPUT policy {fw.get('input_policy') or 'ACCEPT'})",
                      f"有{count}条会话状态规则，但入站默认放行（INPUT策略{fw.get('input_policy') or 'ACCEPT'}）")
    return passed(f"{count} connection-state rule(s) over INPUT policy {fw['input_policy']}",
                  f"有{count}条会话状态规则，INPUT默认策略为{fw['input_policy']}")


_QUIET = ("QUIET", "FATAL", "ERROR")


@check(
    id="host.remote_access_logging",
    title_en="Remote logins are logged to a dedicated authentication log (level 3)",
    title_zh="远程访问行为单独记录（认证日志），可单独审计和分析",
    controls={3: ["L3-ABS1-19"]},
    asset_type="host",
    remediation="Keep sshd LogLevel at INFO or VERBOSE and write the auth/authpriv facility to its own log "
                "(rsyslog `authpriv.* /var/log/secure`, forwarded to the log platform), or keep the journal on disk.",
    remediation_zh="sshd的LogLevel保持INFO或VERBOSE，并将auth/authpriv日志写入单独的日志文件（rsyslog "
                   "`authpriv.* /var/log/secure`，并转发到日志平台），或将journal持久化保存。",
    shows={"L3-ABS1-19": ("SSH (remote-access) logins and sudo use are recorded at INFO level or above in a log of "
                          "their own (auth/authpriv), so remote-access behaviour can be audited and analysed apart",
                          "SSH远程登录及sudo使用以INFO及以上级别记录到单独的认证日志（auth/authpriv），"
                          "可对远程访问行为单独审计和分析")},
)
def remote_access_logging(asset, ctx: CheckContext):
    ssh = ctx.need(asset, "ssh")
    auth = ctx.need(asset, "auth_logging")
    level = str(ssh.get("log_level") or "INFO").upper()
    where = list(auth.get("auth_targets") or [])
    where_zh = list(where)
    if auth.get("journal_persistent"):
        where.append("the persistent journal")
        where_zh.append("持久化的journal日志")
    problems, problems_zh = [], []
    if level in _QUIET:
        problems.append(f"sshd LogLevel {level} drops login records")
        problems_zh.append(f"sshd的LogLevel为{level}，不记录登录信息")
    if not where:
        problems.append("no log receives the auth/authpriv facility on its own")
        problems_zh.append("没有单独记录auth/authpriv认证日志的位置")
    if problems:
        return failed("; ".join(problems), "；".join(problems_zh), details={"log_level": level, "auth_targets": where})
    return passed(f"sshd LogLevel {level}; authentication messages go to {', '.join(where)}",
                  f"sshd的LogLevel为{level}；认证日志写入{'、'.join(where_zh)}")
