"""What the AWS collector's assets contribute to the questionnaire's architecture section: accounts and
regions, VPCs and subnets, internet-facing endpoints (public instances, internet-facing load balancers,
security groups open to the internet, public databases and buckets), EC2 instances, data stores (RDS, S3,
EBS volumes and snapshots, DynamoDB) and the security services (CloudTrail, VPC flow logs, GuardDuty, WAF,
AWS Config). Attributes as docs/asset-types.md describes them; any may be absent."""
from __future__ import annotations

from mlps_scan.architecture import (OPEN_SOURCES, ArchitectureEntries, as_bool, attribute, data_store, entry_source,
                                    group_by_type, port_list, port_range, short_text)
from mlps_scan.models import Asset, CloudAccount, Endpoint, HostEntry, NetworkZone, SecurityService

# data-store asset types: (kind in the questionnaire, attribute saying whether it is encrypted)
STORES = {"aws.rds.instance": ("rds", "storage_encrypted"), "aws.rds.cluster": ("rds_cluster", "storage_encrypted"),
          "aws.s3.bucket": ("s3", "encryption"), "aws.ec2.volume": ("ebs_volume", "encrypted"),
          "aws.ec2.snapshot": ("ebs_snapshot", "encrypted"), "aws.dynamodb.table": ("dynamodb", "encrypted")}
STORE_PREFIXES = ("aws.rds.", "aws.dynamodb.")


def describe(assets: list[Asset]) -> ArchitectureEntries:
    by_type = group_by_type(assets)
    entries = ArchitectureEntries()
    for account in by_type["aws.account"]:
        entries.cloud_accounts.append(CloudAccount(
            id=str(attribute(account, "account_id", account.id)), partition=attribute(account, "partition"),
            regions=[str(r) for r in attribute(account, "regions", [])], scope=account.scope,
            source=entry_source(account)))
    entries.networks.extend(networks(by_type))
    entries.internet_endpoints.extend(endpoints(by_type))
    entries.hosts.extend(instances(by_type))
    entries.data_stores.extend(stores(assets))
    entries.security_services.extend(security_services(by_type))
    return entries


def networks(by_type: dict[str, list[Asset]]) -> list[NetworkZone]:
    out = []
    for vpc in by_type["aws.ec2.vpc"]:
        flow_logs = attribute(vpc, "flow_logs")
        detail = "; ".join(x for x in ("default VPC" if attribute(vpc, "is_default") else "",
                                       f"flow logs {'on' if flow_logs else 'off'}" if flow_logs is not None else "") if x)
        out.append(NetworkZone(kind="vpc", id=str(attribute(vpc, "vpc_id", vpc.id)), name=vpc.name,
                               cidr=attribute(vpc, "cidr"), scope=vpc.scope, detail=detail or None,
                               source=entry_source(vpc)))
    for subnet in by_type["aws.ec2.subnet"]:
        out.append(NetworkZone(
            kind="subnet", id=str(attribute(subnet, "subnet_id", subnet.id)), name=subnet.name,
            cidr=attribute(subnet, "cidr"), public=as_bool(attribute(subnet, "public")), scope=subnet.scope,
            detail=short_text({k: subnet.attributes[k] for k in ("vpc_id", "availability_zone") if k in subnet.attributes}),
            source=entry_source(subnet)))
    return out


def _open_ports(group: Asset) -> list[str]:
    return [port_range(rule.get("from_port"), rule.get("to_port"), rule.get("protocol"))
            for rule in attribute(group, "ingress", []) or []
            if isinstance(rule, dict) and OPEN_SOURCES & {str(c) for c in (rule.get("cidrs") or [])}]


def endpoints(by_type: dict[str, list[Asset]]) -> list[Endpoint]:
    out = []
    for instance in by_type["aws.ec2.instance"]:
        if attribute(instance, "public_ip"):
            out.append(Endpoint(
                kind="public_ip", id=str(attribute(instance, "instance_id", instance.id)), name=instance.name,
                address=str(instance.attributes["public_ip"]), scope=instance.scope, internet_facing=True,
                detail=f"EC2 instance, state {attribute(instance, 'state', '?')}", source=entry_source(instance)))
    for balancer in by_type["aws.elb.load_balancer"]:
        if str(attribute(balancer, "scheme", "")).lower() == "internet-facing":
            out.append(Endpoint(
                kind="load_balancer", id=balancer.id, name=balancer.name, address=attribute(balancer, "dns_name"),
                ports=port_list(attribute(balancer, "listeners", [])), scope=balancer.scope, internet_facing=True,
                detail="internet-facing load balancer", source=entry_source(balancer)))
    for group in by_type["aws.ec2.security_group"]:
        open_ports = _open_ports(group)
        if open_ports:
            out.append(Endpoint(
                kind="open_security_group", id=str(attribute(group, "group_id", group.id)), name=group.name,
                ports=open_ports, scope=group.scope, internet_facing=True,
                detail=f"ingress from 0.0.0.0/0 or ::/0; in use: {attribute(group, 'in_use', 'unknown')}",
                source=entry_source(group)))
    for database in by_type["aws.rds.instance"]:
        if attribute(database, "publicly_accessible") is True:
            out.append(Endpoint(
                kind="public_database", id=database.id, name=database.name,
                address=short_text(attribute(database, "endpoint")), scope=database.scope, internet_facing=True,
                detail=f"RDS {attribute(database, 'engine', '')} publicly accessible", source=entry_source(database)))
    for bucket in by_type["aws.s3.bucket"]:
        if attribute(bucket, "public") is True:
            out.append(Endpoint(
                kind="public_bucket", id=bucket.id, name=bucket.name or attribute(bucket, "name"), scope=bucket.scope,
                internet_facing=True, detail="S3 bucket readable by the public", source=entry_source(bucket)))
    return out


def instances(by_type: dict[str, list[Asset]]) -> list[HostEntry]:
    return [HostEntry(kind="ec2_instance", id=str(attribute(i, "instance_id", i.id)), name=i.name,
                      os=attribute(i, "platform") or None, scope=i.scope,
                      detail=short_text({k: i.attributes[k] for k in ("state", "private_ip", "public_ip", "vpc_id")
                                         if i.attributes.get(k)}),
                      source=entry_source(i))
            for i in by_type["aws.ec2.instance"]]


def stores(assets: list[Asset]):
    """Data stores in inventory order."""
    for asset in assets:
        if asset.type not in STORES and not asset.type.startswith(STORE_PREFIXES):
            continue
        kind, encryption_key = STORES.get(asset.type, (asset.type, "encrypted"))
        public = attribute(asset, "publicly_accessible") if asset.type.startswith("aws.rds.") else attribute(asset, "public")
        yield data_store(asset, kind=kind, encryption_key=encryption_key, public=public,
                         structured_encryption=asset.type == "aws.s3.bucket")


def security_services(by_type: dict[str, list[Asset]]) -> list[SecurityService]:
    out = []
    for trail in by_type["aws.cloudtrail.trail"]:
        out.append(SecurityService(
            kind="cloudtrail", id=trail.id, name=trail.name, enabled=as_bool(attribute(trail, "logging")),
            scope=trail.scope, source=entry_source(trail),
            detail=short_text({k: trail.attributes[k] for k in ("multi_region", "log_file_validation", "home_region")
                               if k in trail.attributes})))
    for vpc in by_type["aws.ec2.vpc"]:
        if "flow_logs" in vpc.attributes or "flow_logs" in vpc.errors:
            out.append(SecurityService(
                kind="vpc_flow_logs", id=str(attribute(vpc, "vpc_id", vpc.id)), name=vpc.name,
                enabled=None if "flow_logs" in vpc.errors else as_bool(vpc.attributes["flow_logs"]),
                detail=(f"not collected: {vpc.errors['flow_logs']}" if "flow_logs" in vpc.errors else None),
                scope=vpc.scope, source=entry_source(vpc)))
    for detector in by_type["aws.guardduty.detector"]:
        status = attribute(detector, "status")
        out.append(SecurityService(kind="guardduty", id=detector.id, name=detector.name, enabled=as_bool(status),
                                   detail=short_text(status), scope=detector.scope, source=entry_source(detector)))
    for acl in by_type["aws.wafv2.web_acl"]:
        associated = attribute(acl, "associated")
        out.append(SecurityService(kind="waf", id=acl.id, name=acl.name,
                                   enabled=bool(associated) if associated is not None else None,
                                   detail=f"associated: {short_text(associated)}" if associated is not None else None,
                                   scope=acl.scope, source=entry_source(acl)))
    for recorder in by_type["aws.config.recorder"]:
        out.append(SecurityService(kind="aws_config", id=recorder.id, name=recorder.name,
                                   enabled=as_bool(attribute(recorder, "recording")), scope=recorder.scope,
                                   source=entry_source(recorder)))
    return out
