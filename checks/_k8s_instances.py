"""Per-instance judgement of the kube-apiserver checks. A self-managed cluster runs one kube-apiserver static
pod per control-plane node (`k8s.controlplane.apiserver` assets); a check written for one set of flags on the
cluster (`k8s.cluster.api_server`) is decorated with `@per_apiserver` and then judges every instance: each
gets its own verdict naming its node, and the cluster's verdict says which instances fail. A cluster whose
instances are not visible (managed control planes: the EKS path) is judged as before, once."""
from __future__ import annotations

import functools
from typing import Callable

from mlps_scan.plugins import CheckContext, EvidenceMissing, Verdict

APISERVER = "k8s.controlplane.apiserver"


def verdict(status: str, message: str, zh: str, **kw) -> Verdict:
    return Verdict(status, message, zh, **kw)


def instances(asset, ctx: CheckContext, type_: str = APISERVER) -> list:
    return sorted(ctx.related(asset, type_), key=lambda a: (str(a.attributes.get("node") or ""), a.name or ""))


def label(inst) -> tuple[str, str]:
    node = inst.attributes.get("node") or "?"
    return f"{inst.name} on node {node}", f"节点{node}上的{inst.name}"


def _judge(fn: Callable, cluster, inst, ctx: CheckContext) -> Verdict:
    """The check on the cluster as this instance's flags make it."""
    view = cluster.model_copy(update={
        "attributes": {**cluster.attributes, "api_server": inst.attributes.get("api_server") or {}},
        "errors": {k: v for k, v in cluster.errors.items() if k != "api_server"}})
    try:
        v = fn(view, ctx)
    except EvidenceMissing as e:
        return verdict("error", f"evidence missing: {e}", f"证据缺失，无法判定：{e.zh or e}")
    if isinstance(v, list):  # a check judging one set of flags returns one verdict
        v = v[0]
    return v


def _instance_verdict(inst, v: Verdict) -> Verdict:
    en, zh = label(inst)
    return verdict(v.status, f"{en}: {v.message}", f"{zh}：{v.message_zh or v.message}", details=v.details,
                   evidence=inst.evidence, resource_id=inst.id, resource_type=inst.type)


def _summary(judged: list[tuple[object, Verdict]]) -> Verdict:
    n = len(judged)
    statuses = {inst.name: v.status for inst, v in judged}
    if n == 1:
        inst, v = judged[0]
        en, zh = label(inst)
        return verdict(v.status, f"{v.message} ({en})", f"{v.message_zh or v.message}（{zh}）",
                       details={**v.details, "instances": statuses})
    for status, word, word_zh in (("fail", "fail", "不符合"), ("error", "could not be judged", "无法判定")):
        bad = [(inst, v) for inst, v in judged if v.status == status]
        if bad:
            en = "; ".join(f"{label(i)[0]}: {v.message}" for i, v in bad)
            zh = "；".join(f"{label(i)[1]}：{v.message_zh or v.message}" for i, v in bad)
            return verdict(status, f"{len(bad)} of {n} kube-apiserver instances {word}: {en}",
                           f"{n}个kube-apiserver实例中{len(bad)}个{word_zh}：{zh}",
                           details={"instances": statuses, "failing": [i.name for i, _ in bad]})
    nodes = ", ".join(str(i.attributes.get("node")) for i, _ in judged)
    messages = {v.message for _, v in judged}
    first = judged[0][1]
    if len(messages) == 1:
        return verdict(first.status, f"{first.message} (all {n} kube-apiserver instances: nodes {nodes})",
                       f"{first.message_zh or first.message}（全部{n}个kube-apiserver实例：节点{nodes}）",
                       details={"instances": statuses})
    status = "pass" if any(v.status == "pass" for _, v in judged) else first.status
    return verdict(status, f"all {n} kube-apiserver instances: " + "; ".join(f"{label(i)[0]}: {v.message}" for i, v in judged),
                   f"全部{n}个kube-apiserver实例：" + "；".join(f"{label(i)[1]}：{v.message_zh or v.message}" for i, v in judged),
                   details={"instances": statuses})


def per_apiserver(fn: Callable) -> Callable:
    """Judge every kube-apiserver instance of the cluster with `fn` (see the module's docstring)."""
    @functools.wraps(fn)
    def run(asset, ctx: CheckContext):
        found = instances(asset, ctx) if asset.type == "k8s.cluster" else []
        if not found:
            return fn(asset, ctx)
        judged = [(inst, _judge(fn, asset, inst, ctx)) for inst in found]
        return [_summary(judged), *(_instance_verdict(inst, v) for inst, v in judged)]
    return run
