"""AWS data copies and their locations (数据备份恢复 / 云计算扩展): off-site copies of S3 data (cross-region
replication), of databases (cross-region read replicas or automated-backup replication) and of AWS Backup
recovery points (copy actions to another region), and where the customer's data and backups are."""
from __future__ import annotations

from collections import defaultdict

from mlps_scan.plugins import CheckContext, check, error, failed, not_applicable, passed

from ._aws import in_account, region_of_arn, region_of_scope


@check(
    id="aws.s3.replication",
    title_en="S3 buckets replicate to a bucket in another region (real-time off-site copy)",
    title_zh="提供异地实时备份功能（S3存储桶跨区域复制）",
    controls={2: ["L2-CES1-20"], 3: ["L3-CES1-30"]},
    asset_type="aws.s3.bucket",
    remediation="Enable versioning and add a replication rule to a bucket in another region (in China: "
                "cn-north-1 <-> cn-northwest-1), with S3 Replication Time Control for a bounded lag.",
    remediation_zh="开启版本控制并添加复制规则，将数据复制到另一区域的存储桶（中国区：cn-north-1与cn-northwest-1互为异地），"
                   "可启用S3复制时间控制以限定延迟。",
    shows={"L2-CES1-20": ("the bucket's objects are copied over the network to a bucket in another region (a copy "
                          "at least as current as a scheduled batch transfer)",
                          "存储桶对象通过网络复制到另一区域的存储桶（不逊于定时批量传送的异地备份）"),
           "L3-CES1-30": ("the bucket's objects are replicated as they are written to a bucket in another region: "
                          "real-time off-site backup over the network",
                          "存储桶对象写入后即复制到另一区域的存储桶：通过网络实现异地实时备份")},
)
def s3_replication(asset, ctx: CheckContext):
    rules = ctx.need(asset, "replication")
    region = ctx.need(asset, "region")
    buckets = {b.name: b for b in in_account(ctx, asset, "aws.s3.bucket")}
    if not rules:
        sources = [b.name for b in buckets.values() if b.id != asset.id and b.attributes.get("region") != region
                   and any(r.get("destination") == asset.name for r in b.attributes.get("replication") or [])]
        if sources:
            return passed(f"holds the off-site replica of {', '.join(sorted(sources))}",
                          f"保存{'、'.join(sorted(sources))}的异地副本")
        return failed("not replicated to another region", "未复制到其他区域")
    offsite, same, unknown = [], [], []
    for r in rules:
        dest = buckets.get(r.get("destination"))
        if dest is None or not dest.attributes.get("region"):
            unknown.append(r.get("destination"))
        elif dest.attributes["region"] != region:
            offsite.append(f"{dest.name} ({dest.attributes['region']})")
        else:
            same.append(dest.name)
    if offsite:
        return passed(f"replicated to {', '.join(offsite)}", f"复制到{'、'.join(offsite)}")
    if unknown:
        return error(f"replicated to {', '.join(map(str, unknown))}, not in the scan: the copy's region is unknown",
                     f"复制到{'、'.join(map(str, unknown))}，该存储桶不在扫描范围内，副本所在区域未知")
    return failed(f"replicated only within {region} ({', '.join(same)}): not off-site",
                  f"仅在{region}区域内复制（{'、'.join(same)}），不是异地备份")


@check(
    id="aws.rds.cross_region_copy",
    title_en="Databases keep a copy in another region (cross-region read replica or backup replication)",
    title_zh="提供异地实时备份功能（数据库跨区域只读副本或自动备份跨区域复制）",
    controls={2: ["L2-CES1-20"], 3: ["L3-CES1-30"]},
    asset_type="aws.rds.instance",
    remediation="Create a cross-region read replica (real-time) or start cross-region automated backup replication "
                "for the instance.",
    remediation_zh="为实例创建跨区域只读副本（实时），或开启自动备份跨区域复制。",
    shows={"L2-CES1-20": ("the database's data or automated backups are copied over the network to another region",
                          "数据库的数据或自动备份通过网络复制到另一区域"),
           "L3-CES1-30": ("a read replica in another region receives the database's changes continuously: real-time "
                          "off-site backup (automated-backup replication to another region also counts)",
                          "另一区域的只读副本持续接收数据库的变更：异地实时备份（自动备份跨区域复制同样计入）")},
)
def rds_cross_region_copy(asset, ctx: CheckContext):
    a = asset.attributes
    region = a.get("region") or region_of_scope(asset.scope)
    source = a.get("replica_source")
    if source and region_of_arn(source) not in (None, region):
        return passed(f"is the off-site replica of {source}", f"本实例是{source}的异地副本")
    copies = [(x, region_of_arn(x)) for x in (a.get("read_replicas") or []) + (a.get("backup_replications") or [])]
    offsite = [f"{x.rsplit(':', 1)[-1]} ({r})" for x, r in copies if r and r != region]
    if offsite:
        return passed(f"copies in another region: {', '.join(offsite)}", f"在其他区域有副本：{'、'.join(offsite)}")
    return failed("no read replica or backup replication in another region", "没有位于其他区域的只读副本或备份复制")


@check(
    id="aws.backup.offsite_copy",
    title_en="AWS Backup plans select resources and copy their backups to another region",
    title_zh="提供异地数据备份功能（AWS Backup计划定时备份并复制到其他区域）",
    controls={2: ["L2-CES1-20"]},
    asset_type="aws.region", reads=["aws.backup.plan"],
    remediation="Create a backup plan with a schedule, assign the important resources to it (backup selection) and "
                "add a copy action to a vault in another region.",
    remediation_zh="创建带有备份计划时间表的备份计划，将重要资源分配给它（备份选择），并添加复制到其他区域备份库的复制动作。",
    shows={"L2-CES1-20": ("a backup plan backs up selected resources on a schedule and copies the recovery points to "
                          "a vault in another region: scheduled batch transfer of important data to a backup site",
                          "备份计划按时间表备份所选资源并将恢复点复制到其他区域的备份库：将重要数据定时批量传送至备用场地")},
)
def backup_offsite_copy(asset, ctx: CheckContext):
    na = ctx.unavailable(asset, "aws.backup.plan")
    if na:
        return not_applicable(na[0].reason or "AWS Backup is not offered here", "本区域不提供AWS Backup服务")
    plans = ctx.related(asset, "aws.backup.plan")
    if not plans:
        return failed("no AWS Backup plan in the region", "本区域没有AWS Backup备份计划")
    good, why, why_zh = [], [], []
    for p in plans:
        rules, selections = ctx.need(p, "rules"), ctx.need(p, "selections")
        copies = sorted({r for rule in rules for r in rule.get("copy_regions", []) if r != region_of_scope(p.scope)})
        if not selections:
            why.append(f"{p.name} selects no resource")
            why_zh.append(f"{p.name}未选择任何资源")
        elif not copies:
            why.append(f"{p.name} keeps its copies in the region")
            why_zh.append(f"{p.name}的备份只保存在本区域")
        else:
            good.append((p, copies))
    if good:
        return passed("; ".join(f"{p.name} copies {len(ctx.need(p, 'selections'))} selection(s) to {', '.join(c)}"
                                for p, c in good),
                      "；".join(f"{p.name}将{len(ctx.need(p, 'selections'))}个备份选择复制到{'、'.join(c)}" for p, c in good),
                      evidence=asset.evidence + [e for p, _ in good for e in p.evidence])
    return failed("no plan copies backups off-site: " + "; ".join(why), "没有将备份复制到异地的计划：" + "；".join(why_zh),
                  evidence=asset.evidence + [e for p in plans for e in p.evidence])


# where the customer's data lives: asset type -> (what it is, in Chinese)
_STORES = {"aws.s3.bucket": ("bucket", "存储桶"), "aws.rds.instance": ("database", "数据库"),
           "aws.ec2.volume": ("volume", "云硬盘"), "aws.ec2.snapshot": ("snapshot", "快照"),
           "aws.backup.plan": ("backup plan", "备份计划")}


@check(
    id="aws.data.locations",
    title_en="The storage location of every data store and backup can be queried",
    title_zh="能够查询云服务客户数据及备份的存储位置",
    controls={2: ["L2-CES2-09"], 3: ["L3-CES2-15"]},
    asset_type="aws.account", reads=list(_STORES),
    remediation="Keep the regions of buckets, databases, volumes and backup copies queryable (grant the scanner "
                "s3:GetBucketLocation and the list permissions) and document them in the data inventory.",
    remediation_zh="确保存储桶、数据库、云硬盘和备份副本的所在区域可查询（为扫描授予s3:GetBucketLocation及列表权限），"
                   "并记录在数据资产清单中。",
    shows={"L2-CES2-09 L3-CES2-15": ("the region of every bucket, database, volume, snapshot and backup plan, and of "
                                     "their replicas and backup copies, is queried through the provider's API and "
                                     "listed (the assessor confirms it matches the data inventory)",
                                     "通过云服务商接口查询并列出每个存储桶、数据库、云硬盘、快照、备份计划及其副本和备份复制"
                                     "所在的区域（测评人员与数据资产清单核对）")},
)
def data_locations(asset, ctx: CheckContext):
    labels = {**{what: zh for what, zh in _STORES.values()}, "database replica": "数据库副本", "backup copy": "备份副本"}
    where: dict[str, list[str]] = defaultdict(list)
    unknown, unknown_zh = [], []
    for type_, (what, what_zh) in _STORES.items():
        for store in in_account(ctx, asset, type_):
            region = store.attributes.get("region") or region_of_scope(store.scope)
            if type_ == "aws.s3.bucket":
                region = store.attributes.get("region")
                if "region" in store.errors or not region:
                    reason = store.errors.get("region", "region not answered")
                    unknown.append(f"{what} {store.name}: {reason}")
                    unknown_zh.append(f"{what_zh}{store.name}：{reason}")
                    continue
            where[region].append(what)
            for r in store.attributes.get("read_replicas") or []:
                where[region_of_arn(r) or "?"].append("database replica")
            for rule in store.attributes.get("rules") or []:
                for r in rule.get("copy_regions") or []:
                    where[r].append("backup copy")
    if unknown:
        return error("the location of some data cannot be queried: " + "; ".join(unknown),
                     "部分数据的存储位置无法查询：" + "；".join(unknown_zh))
    if not where:
        return not_applicable("no data store or backup in the scan", "扫描范围内没有数据存储或备份，不适用")
    counts = {r: _count(ws) for r, ws in sorted(where.items())}
    summary = "; ".join(f"{r}: " + ", ".join(f"{n} {w}(s)" for w, n in sorted(c.items())) for r, c in counts.items())
    summary_zh = "；".join(f"{r}：" + "、".join(f"{labels[w]}{n}个" for w, n in sorted(c.items())) for r, c in counts.items())
    return passed(f"data and backups by region: {summary}", f"数据及备份所在区域：{summary_zh}", details={"regions": counts})


def _count(items: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for x in items:
        out[x] = out.get(x, 0) + 1
    return out
