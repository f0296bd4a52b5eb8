"""What the Kubernetes audit log records, read from the audit policy itself (a copy of the file
--audit-policy-file names, supplied as the target's `audit_policy`: it is not readable through the API).
Audit records must say who did what, when and with which outcome for every important action (GB/T 22239
8.1.4.3 b, 8.1.3.5 b); a policy can silently drop whole kinds of request, omit the outcome stage, or write
Secret values and issued tokens into the log. Judged for every kube-apiserver instance (`@per_apiserver`)."""
from __future__ import annotations

from mlps_scan.plugins import CheckContext, check, error, failed, passed

from ._k8s_audit_policy import evaluate
from ._k8s_instances import per_apiserver


@check(
    id="k8s.audit.policy_content",
    title_en="The audit policy records who did what and the outcome, for every important request, without secret "
             "values",
    title_zh="审计策略记录所有重要请求的操作者、操作和结果，且不记录机密内容",
    controls={2: ["L2-CES1-09", "L2-ABS1-09"], 3: ["L3-CES1-13", "L3-ABS1-17"]},
    asset_type="k8s.cluster",
    shows={"L2-ABS1-09 L3-ABS1-17": ("the Kubernetes audit policy records, for every probed kind of request, the "
                                     "time, the user, the verb and resource and the response status (the outcome "
                                     "stage is not omitted), so each record carries what the item requires",
                                     "Kubernetes审计策略对每类探测请求记录时间、用户、操作和资源以及响应状态（未省略"
                                     "结果阶段），每条审计记录包含本项要求的内容")},
    remediation="End the audit policy with a catch-all rule at level Metadata; keep Secrets, ConfigMaps, TokenReviews "
                "and ServiceAccount tokens at Metadata; never omit the ResponseComplete stage; supply a copy of the "
                "policy file (kubernetes target `audit_policy`).",
    remediation_zh="审计策略以Metadata级别的兜底规则结尾；Secret、ConfigMap、TokenReview和ServiceAccount令牌保持Metadata级别；"
                   "不得省略ResponseComplete阶段；并提供策略文件副本（kubernetes目标的audit_policy）。",
    severity="high",
)
@per_apiserver
def policy_content(asset, ctx: CheckContext):
    a = asset.attributes
    if "api_server" not in a and a.get("platform") == "eks" and a.get("eks_cluster"):
        return error("EKS applies AWS's own audit policy, which neither the cluster nor the AWS API shows: an assessor "
                     "confirms from AWS's documentation that it records every request at Metadata or above",
                     "EKS使用AWS自有的审计策略，集群和AWS API均不显示其内容：需测评人员依据AWS文档确认其以Metadata及以上级别记录所有请求")
    api = ctx.need(asset, "api_server")
    flag = api.get("audit_policy_file")
    if not flag:
        return failed("no --audit-policy-file: the API server records no audit events",
                      "未设置--audit-policy-file：API服务器不记录任何审计事件")
    if "audit_policy" in asset.errors:
        return error(f"--audit-policy-file={flag}; the supplied copy could not be read: {asset.errors['audit_policy']}",
                     f"--audit-policy-file={flag}；提供的副本无法读取：{asset.errors['audit_policy']}")
    policy = a.get("audit_policy")
    if policy is None:
        return error(f"--audit-policy-file={flag} is set, but its rules are not readable through the API: supply a "
                     "copy (kubernetes target `audit_policy`)",
                     f"已设置--audit-policy-file={flag}，但其规则无法通过API读取：请提供副本（kubernetes目标的audit_policy）")
    outcomes = evaluate(policy.get("rules") or [], policy.get("omit_stages") or [])
    problems = [o.problem for o in outcomes if o.problem]
    where = f"--audit-policy-file={flag} (copy {policy.get('file')})"
    if problems:
        return failed(f"{where}: " + "; ".join(p[0] for p in problems), f"{where}：" + "；".join(p[1] for p in problems),
                      details={"levels": {o.probe.key: o.level for o in outcomes}})
    levels = ", ".join(f"{o.probe.key}={o.level}" for o in outcomes)
    return passed(f"{where}: every probed request recorded with its outcome, no secret bodies ({levels})",
                  f"{where}：所有探测请求均记录了结果，且不记录机密内容（{levels}）",
                  details={"levels": {o.probe.key: o.level for o in outcomes}})
