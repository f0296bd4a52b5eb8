"""What a kube-apiserver audit policy records: the API server's own matching (first matching rule wins, no
match records nothing; users, userGroups, verbs, namespaces, resources with `*`, `*/sub` and `res/*`,
nonResourceURLs with a trailing `*`), applied to probe requests standing for what GB/T 22239 8.1.4.3 b and
8.1.3.5 b ask audit records to cover (who did what, when, with which outcome), plus the requests whose bodies
must not be written to the log (Secret values, issued tokens)."""
from __future__ import annotations

from dataclasses import dataclass, field

LEVELS = ("None", "Metadata", "Request", "RequestResponse")


@dataclass(frozen=True)
class Probe:
    key: str
    en: str
    zh: str
    verb: str
    group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    path: str = ""  # non-resource requests
    user: str = "mlps-probe:alice"
    groups: tuple[str, ...] = ("system:authenticated", "mlps-probe:people")
    below: str | None = None  # the level the probe must stay below (bodies that hold secrets)


PROBES = (
    Probe("secret_read", "reading a Secret", "读取Secret", "get", resource="secrets", namespace="shop",
          below="RequestResponse"),
    Probe("secret_write", "writing a Secret", "写入Secret", "create", resource="secrets", namespace="shop",
          below="Request"),
    Probe("token_request", "issuing a ServiceAccount token", "签发ServiceAccount令牌", "create",
          resource="serviceaccounts", subresource="token", namespace="shop", below="RequestResponse"),
    Probe("rbac_change", "changing RBAC (a ClusterRoleBinding)", "修改RBAC授权（ClusterRoleBinding）", "create",
          group="rbac.authorization.k8s.io", resource="clusterrolebindings"),
    Probe("pod_exec", "exec into a pod", "进入Pod执行命令（exec）", "create", resource="pods", subresource="exec",
          namespace="shop"),
    Probe("workload_change", "changing a workload (a Deployment)", "修改工作负载（Deployment）", "patch", group="apps",
          resource="deployments", namespace="shop"),
    Probe("kube_system_change", "changing kube-system configuration", "修改kube-system配置", "update",
          resource="configmaps", namespace="kube-system"),
    Probe("anonymous", "an anonymous request", "匿名请求", "list", resource="pods", user="system:anonymous",
          groups=("system:unauthenticated",)),
    Probe("other", "any other request (no rule names it)", "其他任何请求（无规则专门指定）", "list",
          group="mlps-probe.example.com", resource="widgets"),
)


def _path_matches(path: str, spec: str) -> bool:
    return spec in ("*", path) or (spec.endswith("*") and path.startswith(spec[:-1]))


def _resource_matches(rule: dict, p: Probe) -> bool:
    if not p.resource:
        return False
    if rule.get("namespaces") and p.namespace not in rule["namespaces"]:
        return False
    if not rule.get("resources"):
        return True
    combined = f"{p.resource}/{p.subresource}" if p.subresource else p.resource
    for gr in rule["resources"]:
        if not isinstance(gr, dict) or (gr.get("group") or "") != p.group:
            continue
        names = gr.get("resources") or []
        if not names:
            return True
        if gr.get("resourceNames"):  # a rule for named objects does not cover the probe (no name)
            continue
        for res in names:
            if res in (combined, "*") or (p.subresource and res == f"*/{p.subresource}") \
                    or (res.endswith("/*") and p.resource == res[:-2]):
                return True
    return False


def rule_matches(rule: dict, p: Probe) -> bool:
    if rule.get("users") and p.user not in rule["users"]:
        return False
    if rule.get("userGroups") and not set(rule["userGroups"]) & set(p.groups):
        return False
    if rule.get("verbs") and p.verb not in rule["verbs"]:
        return False
    if rule.get("namespaces") or rule.get("resources"):
        return _resource_matches(rule, p)
    if rule.get("nonResourceURLs"):
        return not p.resource and any(_path_matches(p.path, s) for s in rule["nonResourceURLs"])
    return True


@dataclass
class Outcome:
    probe: Probe
    level: str
    rule: int | None  # index of the matching rule (None: no rule matched)
    omitted: list[str] = field(default_factory=list)

    @property
    def problem(self) -> tuple[str, str] | None:
        where = f"rule {self.rule + 1}" if self.rule is not None else "no rule matches"
        where_zh = f"第{self.rule + 1}条规则" if self.rule is not None else "无匹配规则"
        if self.level not in LEVELS or self.level == "None":
            return (f"{self.probe.en} is not recorded (level {self.level}, {where})",
                    f"{self.probe.zh}不被记录（级别{self.level}，{where_zh}）")
        if "ResponseComplete" in self.omitted:
            return (f"{self.probe.en}: its outcome is not recorded (stage ResponseComplete omitted, {where})",
                    f"{self.probe.zh}：不记录结果（省略了ResponseComplete阶段，{where_zh}）")
        if self.probe.below and LEVELS.index(self.level) >= LEVELS.index(self.probe.below):
            return (f"{self.probe.en} is recorded at {self.level} ({where}): the secret it carries is written to the "
                    "audit log", f"{self.probe.zh}以{self.level}级别记录（{where_zh}）：其中的机密内容被写入审计日志")
        return None


def evaluate(rules: list[dict], omit_stages: list[str]) -> list[Outcome]:
    out = []
    for p in PROBES:
        idx = next((i for i, r in enumerate(rules) if rule_matches(r, p)), None)
        rule = rules[idx] if idx is not None else {}
        out.append(Outcome(p, str(rule.get("level", "None")), idx,
                           sorted(set(omit_stages) | set(rule.get("omitStages") or []))))
    return out
