"""AWS backup and redundancy: RDS automated backups and Multi-AZ, S3 versioning."""
from __future__ import annotations

from mlps_scan.plugins import CheckContext, check, failed, passed

BACKUP = {1: ["L1-CES1-11"], 2: ["L2-CES1-19", "L2-CES2-08"], 3: ["L3-CES1-29", "L3-CES2-14"]}


@check(id="aws.rds.backup", title_en="RDS automated backups are on", title_zh="RDS开启自动备份",
       high_risk=[{"case": "6.4.6.1", "when": {"backup_retention_days": 0},
                   "basis": "automated backups off; backups kept fewer days than the profile asks are still backups"}],
       controls=BACKUP, asset_type="aws.rds.instance", params=["rds_backup_retention_days"],
       remediation="Set BackupRetentionPeriod to at least the profile's rds_backup_retention_days (default 7).",
       remediation_zh="将BackupRetentionPeriod设置为不少于配置中的rds_backup_retention_days（默认7天）。",
       severity="high")
def rds_backup(asset, ctx: CheckContext):
    days = int(ctx.need(asset, "backup_retention_days"))
    want = ctx.profile.rds_backup_retention_days
    kept = {"backup_retention_days": days, "required": want}
    if days < 1:
        return failed(f"automated backups off (retention 0 days; at least {want} required)",
                      f"未开启自动备份（保留0天，要求至少{want}天）", details=kept)
    if days < want:
        return failed(f"automated backups kept {days} day{'s' if days != 1 else ''}, below the required {want}",
                      f"自动备份保留{days}天，少于要求的{want}天", details=kept)
    return passed(f"automated backups kept {days} days (at least {want} required)",
                  f"自动备份保留{days}天（要求至少{want}天）")


@check(id="aws.rds.multi_az", title_en="RDS instances are Multi-AZ (hot standby)",
       high_risk=[{"case": "6.4.6.2",
                   "basis": "a single-AZ database has no hot standby"}],
       title_zh="RDS采用多可用区部署，实现热冗余", controls={3: ["L3-CES1-31", "L3-CNS1-05"]},
       asset_type="aws.rds.instance", remediation="Modify the instance to MultiAZ=true (or use an Aurora cluster).",
       remediation_zh="将实例修改为MultiAZ=true（或使用Aurora集群）。", severity="high")
def rds_multi_az(asset, ctx: CheckContext):
    return passed("Multi-AZ", "多可用区部署") if ctx.need(asset, "multi_az") else failed("single-AZ", "单可用区部署，无热备")


@check(id="aws.s3.versioning", title_en="S3 buckets keep object versions",
       title_zh="S3存储桶开启版本控制，防止数据被误删或覆盖",
       controls={1: ["L1-CES1-11"], 2: ["L2-CES1-19"], 3: ["L3-CES1-29", "L3-CES1-26"]},
       asset_type="aws.s3.bucket", remediation="PutBucketVersioning Status=Enabled (and a lifecycle for old versions).",
       remediation_zh="执行PutBucketVersioning Status=Enabled开启版本控制（并为旧版本设置生命周期）。")
def s3_versioning(asset, ctx: CheckContext):
    v = ctx.need(asset, "versioning")
    return passed("versioning enabled", "已开启版本控制") if v == "Enabled" else failed(f"versioning {v}", f"版本控制状态：{v}，未开启")
