"""EC2 compute and block storage of one region: instances, EBS volumes, EBS snapshots (public when restorable
by everyone), and the region itself (EBS encryption by default; the anchor of per-region checks)."""
from __future__ import annotations

from typing import Any

from mlps_scan.models import EvidenceRecord, EvidenceStatus

from ..fetch import IMAGE_BATCH, image_ids, images_params
from ..partition import arn
from .context import AccountEvidence, evidence_ids, name_tag, ok, tag_map, why

PUBLIC_SNAPSHOTS = {"OwnerIds": ["self"], "RestorableByUserIds": ["all"]}


def derive_compute_and_storage(account: AccountEvidence, region: str, scope: str) -> None:
    instances = account.listed(["aws.ec2.instance"], scope, "ec2:DescribeInstances", region)
    volumes = account.listed(["aws.ec2.volume"], scope, "ec2:DescribeVolumes", region)
    snapshots = account.listed(["aws.ec2.snapshot"], scope, "ec2:DescribeSnapshots", region, {"OwnerIds": ["self"]})
    derive_instances(account, region, scope, instances)
    derive_images(account, region, scope, instances)
    derive_volumes(account, region, scope, volumes)
    derive_snapshots(account, region, scope, snapshots)
    derive_region(account, region, scope)


def instance_attributes(instance: dict, tags: dict) -> dict[str, Any]:
    metadata = instance.get("MetadataOptions") or {}
    return {"instance_id": instance["InstanceId"], "state": (instance.get("State") or {}).get("Name"),
            "public_ip": instance.get("PublicIpAddress"), "private_ip": instance.get("PrivateIpAddress"),
            "vpc_id": instance.get("VpcId"), "subnet_id": instance.get("SubnetId"),
            "imds_v2_required": metadata.get("HttpTokens") == "required",
            "imds_enabled": metadata.get("HttpEndpoint", "enabled") == "enabled",
            "platform": instance.get("Platform") or "linux", "image_id": instance.get("ImageId"),
            "instance_type": instance.get("InstanceType"),
            "security_groups": [g.get("GroupId") for g in instance.get("SecurityGroups", [])],
            "tags": tags}


def derive_instances(account: AccountEvidence, region: str, scope: str, instances: EvidenceRecord | None) -> None:
    for reservation in (instances.answer or {}).get("Reservations", []) if instances else []:
        for instance in reservation.get("Instances", []):
            instance_id = instance["InstanceId"]
            tags = tag_map(instance.get("Tags"))
            account.asset("aws.ec2.instance",
                          arn(account.partition, "ec2", region, account.account_id, f"instance/{instance_id}"), scope,
                          name=name_tag(tags, instance_id), evidence=evidence_ids(instances),
                          attributes=instance_attributes(instance, tags))


def derive_images(account: AccountEvidence, region: str, scope: str, instances: EvidenceRecord | None) -> None:
    """The images the instances run (owner, public, name): one `aws.ec2.image` per image DescribeImages
    returned; an image it left out no longer exists (or is not shared with the account)."""
    if instances is None:
        return
    ids = image_ids(instances.answer)
    batches = [account.get("ec2:DescribeImages", region, images_params(ids[i:i + IMAGE_BATCH]))
               for i in range(0, len(ids), IMAGE_BATCH)]
    failed = [b for b in batches if not ok(b)]
    if failed:
        account.coverage("aws.ec2.image", scope, failed[0].status if failed[0] is not None else EvidenceStatus.error,
                         why(failed[0], "ec2:DescribeImages"), [b.id for b in failed if b is not None])
        return
    account.coverage("aws.ec2.image", scope, EvidenceStatus.ok, None, [b.id for b in batches] or [instances.id])
    for batch in batches:
        for image in (batch.answer or {}).get("Images", []):
            image_id = image["ImageId"]
            tags = tag_map(image.get("Tags"))
            account.asset("aws.ec2.image", arn(account.partition, "ec2", region, "", f"image/{image_id}"), scope,
                          name=image.get("Name") or image_id, evidence=[batch.id],
                          attributes={"image_id": image_id, "owner_id": image.get("OwnerId"),
                                      "owner_alias": image.get("ImageOwnerAlias"), "public": bool(image.get("Public")),
                                      "description": image.get("Description"), "created": image.get("CreationDate"),
                                      "source_instance": image.get("SourceInstanceId"),
                                      "platform": image.get("PlatformDetails") or image.get("Platform"),
                                      "tags": tags})


def derive_volumes(account: AccountEvidence, region: str, scope: str, volumes: EvidenceRecord | None) -> None:
    for volume in (volumes.answer or {}).get("Volumes", []) if volumes else []:
        volume_id = volume["VolumeId"]
        tags = tag_map(volume.get("Tags"))
        account.asset("aws.ec2.volume", arn(account.partition, "ec2", region, account.account_id, f"volume/{volume_id}"),
                      scope, name=name_tag(tags, volume_id), evidence=evidence_ids(volumes),
                      attributes={"volume_id": volume_id, "encrypted": bool(volume.get("Encrypted")),
                                  "kms_key_id": volume.get("KmsKeyId"), "state": volume.get("State"),
                                  "size_gb": volume.get("Size"),
                                  "attached_to": [x.get("InstanceId") for x in volume.get("Attachments", [])],
                                  "tags": tags})


def derive_snapshots(account: AccountEvidence, region: str, scope: str, snapshots: EvidenceRecord | None) -> None:
    public_listing = account.get("ec2:DescribeSnapshots", region, PUBLIC_SNAPSHOTS)
    candidates = ({x["SnapshotId"] for x in (public_listing.answer or {}).get("Snapshots", [])}
                  if ok(public_listing) else set())
    for snapshot in (snapshots.answer or {}).get("Snapshots", []) if snapshots else []:
        snapshot_id = snapshot["SnapshotId"]
        tags = tag_map(snapshot.get("Tags"))
        attributes = {"snapshot_id": snapshot_id, "encrypted": bool(snapshot.get("Encrypted")),
                      "kms_key_id": snapshot.get("KmsKeyId"), "volume_id": snapshot.get("VolumeId"), "tags": tags}
        errors = {}
        permission = None
        if not ok(public_listing):
            errors["public"] = why(public_listing, "ec2:DescribeSnapshots(RestorableByUserIds=all)")
        elif snapshot_id not in candidates:
            attributes["public"] = False
        else:
            permission = account.get("ec2:DescribeSnapshotAttribute", region,
                                     {"SnapshotId": snapshot_id, "Attribute": "createVolumePermission"})
            if ok(permission):
                attributes["public"] = any(p.get("Group") == "all"
                                           for p in (permission.answer or {}).get("CreateVolumePermissions", []))
            else:
                errors["public"] = why(permission, "ec2:DescribeSnapshotAttribute")
        account.asset("aws.ec2.snapshot", arn(account.partition, "ec2", region, "", f"snapshot/{snapshot_id}"), scope,
                      name=name_tag(tags, snapshot_id), attributes=attributes, errors=errors,
                      evidence=evidence_ids(snapshots, public_listing, permission))


def derive_region(account: AccountEvidence, region: str, scope: str) -> None:
    """The region itself: default EBS encryption, and the anchor for per-region checks (Config, GuardDuty)."""
    encryption_default = account.get("ec2:GetEbsEncryptionByDefault", region)
    attributes: dict[str, Any] = {"region": region, "partition": account.partition, "account_id": account.account_id}
    errors: dict[str, str] = {}
    if ok(encryption_default):
        attributes["ebs_encryption_by_default"] = bool((encryption_default.answer or {}).get("EbsEncryptionByDefault"))
    elif encryption_default is not None and encryption_default.status == EvidenceStatus.not_available:
        attributes["ebs_encryption_by_default"] = None
    else:
        errors["ebs_encryption_by_default"] = why(encryption_default, "ec2:GetEbsEncryptionByDefault")
    account.asset("aws.region", f"{account.account_id}:{region}", scope, name=region, attributes=attributes,
                  errors=errors, evidence=[account.scope_record.id] + evidence_ids(encryption_default))
