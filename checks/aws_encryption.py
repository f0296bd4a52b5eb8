"""AWS encryption and data protection: at rest (S3, EBS and its default, RDS, log groups, snapshots, KMS
rotation), in transit (TLS-only bucket policies, load-balancer TLS policies) and public exposure of data
(buckets, snapshots). Level 2 has no confidentiality items; transit integrity applies at every level."""
from __future__ import annotations

from mlps_scan.plugins import CheckContext, check, failed, not_applicable, passed

from ._aws import tls_policy_ok

AT_REST = {3: ["L3-CES1-28"]}


@check(id="aws.s3.encryption", title_en="S3 buckets have default encryption", title_zh="S3存储桶启用默认加密",
       high_risk=[{"case": "6.4.5.2",
                   "basis": "a bucket without default encryption"}],
       controls=AT_REST, asset_type="aws.s3.bucket",
       remediation="PutBucketEncryption with SSE-KMS (or SSE-S3).",
       remediation_zh="执行PutBucketEncryption，启用SSE-KMS（或SSE-S3）默认加密。", severity="high")
def s3_encryption(asset, ctx: CheckContext):
    enc = ctx.need(asset, "encryption")
    if enc:
        return passed(f"default encryption {enc.get('algorithm')}", f"已启用默认加密（{enc.get('algorithm')}）")
    return failed("no default encryption", "未启用默认加密")


@check(id="aws.ebs.volume_encrypted", title_en="EBS volumes are encrypted", title_zh="EBS卷已加密",
       high_risk=[{"case": "6.4.5.2",
                   "basis": "a volume not encrypted"}],
       controls=AT_REST, asset_type="aws.ec2.volume",
       remediation="Copy the data to an encrypted volume (snapshot, copy with encryption, restore).",
       remediation_zh="将数据迁移到加密卷（创建快照、加密复制快照、再从快照恢复）。", severity="high")
def volume_encrypted(asset, ctx: CheckContext):
    return passed("encrypted", "卷已加密") if ctx.need(asset, "encrypted") else failed("not encrypted", "卷未加密")


@check(id="aws.ebs.default_encryption", title_en="EBS encryption by default is on in the region",
       title_zh="区域内启用EBS默认加密", controls=AT_REST, asset_type="aws.region",
       remediation="EnableEbsEncryptionByDefault in every region in use.",
       remediation_zh="在所有使用中的区域执行EnableEbsEncryptionByDefault，启用EBS默认加密。")
def ebs_default(asset, ctx: CheckContext):
    v = ctx.need(asset, "ebs_encryption_by_default")
    if v is None:
        return not_applicable("EC2 not offered in this region", "本区域不提供EC2服务")
    return passed("EBS encryption by default on", "已启用EBS默认加密") if v else \
        failed("EBS encryption by default off", "未启用EBS默认加密")


@check(id="aws.ebs.snapshot_encrypted", title_en="EBS snapshots are encrypted", title_zh="EBS快照已加密",
       controls={3: ["L3-CES1-28", "L3-CES2-09"]}, asset_type="aws.ec2.snapshot",
       remediation="Copy snapshots with encryption and delete the unencrypted originals.",
       remediation_zh="以加密方式复制快照，并删除未加密的原快照。")
def snapshot_encrypted(asset, ctx: CheckContext):
    return passed("encrypted", "快照已加密") if ctx.need(asset, "encrypted") else failed("not encrypted", "快照未加密")


@check(id="aws.ebs.snapshot_not_public", title_en="EBS snapshots are not public", title_zh="EBS快照未公开共享",
       high_risk=[{"case": "7.4.1.1",
                   "basis": "a snapshot anyone can restore"}],
       controls={2: ["L2-CES2-04"], 3: ["L3-CES2-08", "L3-CES2-09"]}, asset_type="aws.ec2.snapshot",
       remediation="Remove the `all` group from the snapshot's createVolumePermission.",
       remediation_zh="从快照的createVolumePermission中删除`all`组，取消公开共享。", severity="critical")
def snapshot_public(asset, ctx: CheckContext):
    return failed("restorable by anyone (public)", "快照已公开，任何人均可恢复其数据") if ctx.need(asset, "public") else \
        passed("not public", "快照未公开")


@check(id="aws.rds.storage_encrypted", title_en="RDS storage is encrypted", title_zh="RDS数据库存储已加密",
       high_risk=[{"case": "6.4.5.2",
                   "basis": "database storage not encrypted"}],
       controls=AT_REST, asset_type="aws.rds.instance",
       remediation="Restore from an encrypted snapshot copy (StorageEncrypted cannot be switched on in place).",
       remediation_zh="从加密的快照副本恢复实例（StorageEncrypted无法在原实例上直接开启）。",
       severity="high")
def rds_encrypted(asset, ctx: CheckContext):
    return passed("storage encrypted", "存储已加密") if ctx.need(asset, "storage_encrypted") else \
        failed("storage not encrypted", "存储未加密")


@check(id="aws.logs.kms", title_en="Log groups are encrypted with a customer KMS key",
       title_zh="日志组使用客户管理的KMS密钥加密", controls=AT_REST, asset_type="aws.logs.log_group",
       remediation="AssociateKmsKey on the log group.", remediation_zh="对日志组执行AssociateKmsKey，关联客户管理的KMS密钥。",
       severity="low")
def logs_kms(asset, ctx: CheckContext):
    return passed("KMS key associated", "已关联KMS密钥") if ctx.need(asset, "kms_key_id") else \
        failed("no customer KMS key", "未使用客户管理的KMS密钥加密")


@check(id="aws.kms.rotation", title_en="Customer-managed KMS keys rotate automatically",
       title_zh="客户管理的KMS密钥启用自动轮换", controls={3: ["L3-CES2-13", "L3-CES1-28"]},
       asset_type="aws.kms.key", remediation="EnableKeyRotation on symmetric customer-managed keys.",
       remediation_zh="对客户管理的对称密钥执行EnableKeyRotation，启用自动轮换。")
def kms_rotation(asset, ctx: CheckContext):
    if ctx.need(asset, "key_manager") != "CUSTOMER":
        return None  # AWS managed keys rotate on AWS's schedule
    rot = ctx.need(asset, "rotation_enabled")
    if rot is None:
        return not_applicable(f"rotation not supported for {asset.attributes.get('key_spec')} / "
                              f"{asset.attributes.get('key_state')} keys",
                              f"{asset.attributes.get('key_spec')} / {asset.attributes.get('key_state')} 类型的密钥不支持自动轮换")
    return passed("automatic rotation on", "已启用自动轮换") if rot else failed("automatic rotation off", "未启用自动轮换")


TRANSIT = {1: ["L1-CNS1-01", "L1-CES1-10"], 2: ["L2-CNS1-03", "L2-CES1-18"],
           3: ["L3-CNS1-06", "L3-CNS1-07", "L3-CES1-25", "L3-CES1-27"]}


@check(id="aws.s3.tls_only", title_en="Bucket policies deny requests without TLS",
       title_zh="存储桶策略拒绝非TLS加密的访问", controls=TRANSIT, asset_type="aws.s3.bucket",
       remediation="Add a Deny statement for s3:* with Condition Bool aws:SecureTransport=false.",
       remediation_zh="在存储桶策略中添加Deny语句：对s3:*，条件Bool aws:SecureTransport=false。")
def s3_tls_only(asset, ctx: CheckContext):
    return passed("policy denies non-TLS requests", "存储桶策略拒绝非TLS请求") if ctx.need(asset, "tls_only") else \
        failed("no policy statement denying non-TLS (aws:SecureTransport=false) requests",
               "存储桶策略中没有拒绝非TLS请求（aws:SecureTransport=false）的语句")


@check(id="aws.elb.tls_policy", title_en="Load balancers use TLS 1.2+ policies and no plaintext HTTP",
       high_risk=[{"case": "6.4.5.1", "when": {"plaintext": {"nonempty": True}},
                   "basis": "an HTTP listener that does not redirect to HTTPS carries data in clear; an old TLS "
                            "policy is weak encryption, not clear text"}],
       title_zh="负载均衡监听器仅使用TLS1.2及以上安全策略，无明文HTTP", controls=TRANSIT,
       asset_type="aws.elb.load_balancer", params=["min_tls_version"],
       remediation="Use ELBSecurityPolicy-TLS13-1-2-* (or FS-1-2) on HTTPS/TLS listeners; make HTTP listeners "
                   "redirect to HTTPS.",
       remediation_zh="HTTPS/TLS监听器使用ELBSecurityPolicy-TLS13-1-2-*（或FS-1-2）安全策略；HTTP监听器改为重定向到HTTPS。",
       severity="high")
def elb_tls(asset, ctx: CheckContext):
    listeners = ctx.need(asset, "listeners")
    bad, bad_zh, plaintext = [], [], []
    for lst in listeners:
        proto = lst.get("protocol")
        where = f"{proto}:{lst.get('port')}"
        if proto in ("HTTPS", "TLS"):
            if not tls_policy_ok(lst.get("ssl_policy")):
                bad.append(f"{where} policy {lst.get('ssl_policy')} allows TLS 1.0/1.1")
                bad_zh.append(f"{where} 的安全策略{lst.get('ssl_policy')}允许TLS 1.0/1.1")
            elif ctx.profile.min_tls_version == "TLSv1.3" and "TLS13-1-3" not in (lst.get("ssl_policy") or ""):
                bad.append(f"{where} policy {lst.get('ssl_policy')} allows TLS 1.2 (profile wants 1.3)")
                bad_zh.append(f"{where} 的安全策略{lst.get('ssl_policy')}允许TLS 1.2（配置要求1.3）")
        elif proto == "HTTP" and not lst.get("redirects_to_https"):
            bad.append(f"HTTP:{lst.get('port')} serves plaintext")
            bad_zh.append(f"HTTP:{lst.get('port')} 以明文提供服务")
            plaintext.append(f"HTTP:{lst.get('port')}")
    if bad:
        return failed("; ".join(bad), "；".join(bad_zh), details={"listeners": listeners, "plaintext": plaintext})
    if not listeners:
        return not_applicable("no listeners", "没有监听器")
    return passed("every listener encrypted with a TLS 1.2+ policy or redirecting to HTTPS",
                  "所有监听器均使用TLS 1.2及以上安全策略加密或重定向到HTTPS")


@check(id="aws.s3.not_public", title_en="S3 buckets are not public", title_zh="S3存储桶不可公开访问",
       high_risk=[{"case": "6.4.2.2",
                   "basis": "a bucket anyone can read or write: access control that lets anyone past"}],
       controls={1: ["L1-CES1-03"], 2: ["L2-CES1-04", "L2-CNS1-02"], 3: ["L3-CES1-05", "L3-CNS1-04"]},
       asset_type="aws.s3.bucket",
       remediation="Turn on all four Block Public Access settings (IgnorePublicAcls and RestrictPublicBuckets "
                   "neutralise what exists; BlockPublicAcls/BlockPublicPolicy only refuse new grants) and remove "
                   "AllUsers/AuthenticatedUsers grants and Principal '*' statements.",
       remediation_zh="开启全部四项“阻止公共访问”设置（IgnorePublicAcls和RestrictPublicBuckets使现有公开授权失效；"
                      "BlockPublicAcls/BlockPublicPolicy仅拒绝新的公开授权），并删除AllUsers/AuthenticatedUsers授权"
                      "和Principal为'*'的策略语句。", severity="critical")
def s3_not_public(asset, ctx: CheckContext):
    if ctx.need(asset, "public"):
        via = asset.attributes.get("public_via")
        if via is None:  # inventories derived before `public_via` existed
            via = [w for w, k in (("public ACL grant", "acl_public"), ("public bucket policy", "policy_public"))
                   if asset.attributes.get(k)]
        via_zh = [_VIA_ZH.get(w, w) for w in via]
        return failed("public: " + "; ".join(via), "可公开访问：" + "；".join(via_zh), details={"public_via": via})
    neutralised = [(w, z) for w, z, k in (("public ACL grant (ignored: IgnorePublicAcls)", "公开ACL授权（已被IgnorePublicAcls忽略）", "acl_public"),
                                          ("public bucket policy (restricted: RestrictPublicBuckets)",
                                           "公开的存储桶策略（已被RestrictPublicBuckets限制）", "policy_public"))
                   if asset.attributes.get(k)]
    return passed("not public" + (f"; {', '.join(w for w, _ in neutralised)}" if neutralised else ""),
                  "不可公开访问" + (f"；{'、'.join(z for _, z in neutralised)}" if neutralised else ""))


_VIA_ZH = {"public ACL grant": "公开ACL授权", "public bucket policy": "公开的存储桶策略",
           "ACL grant to AllUsers/AuthenticatedUsers (IgnorePublicAcls off)":
               "ACL向AllUsers/AuthenticatedUsers授权（未开启IgnorePublicAcls）",
           "bucket policy allowing everyone (RestrictPublicBuckets off)":
               "存储桶策略允许任何人访问（未开启RestrictPublicBuckets）"}
