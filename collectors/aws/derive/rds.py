"""RDS database instances of one region: encryption, backups, Multi-AZ, public accessibility, and where copies
of the data go: read replicas (their ARNs name their regions) and automated backups replicated to another
region."""
from __future__ import annotations

from ..partition import arn
from .context import AccountEvidence, tag_map


def derive_instances(account: AccountEvidence, region: str, scope: str) -> None:
    listing = account.listed(["aws.rds.instance"], scope, "rds:DescribeDBInstances", region)
    for db in (listing.answer or {}).get("DBInstances", []) if listing else []:
        identifier = db["DBInstanceIdentifier"]
        db_arn = arn(account.partition, "rds", region, account.account_id, f"db:{identifier}")
        account.asset("aws.rds.instance", db_arn, scope, name=identifier, evidence=[listing.id],
                      attributes={"arn": db_arn, "engine": db.get("Engine"),
                                  "storage_encrypted": bool(db.get("StorageEncrypted")),
                                  "kms_key_id": db.get("KmsKeyId"),
                                  "backup_retention_days": int(db.get("BackupRetentionPeriod") or 0),
                                  "multi_az": bool(db.get("MultiAZ")),
                                  "publicly_accessible": bool(db.get("PubliclyAccessible")),
                                  "endpoint": (db.get("Endpoint") or {}).get("Address"),
                                  "status": db.get("DBInstanceStatus"), "cluster": db.get("DBClusterIdentifier"),
                                  "region": region,
                                  "read_replicas": list(db.get("ReadReplicaDBInstanceIdentifiers") or []),
                                  "replica_source": db.get("ReadReplicaSourceDBInstanceIdentifier"),
                                  "backup_replications": [r.get("DBInstanceAutomatedBackupsArn") for r in
                                                          db.get("DBInstanceAutomatedBackupsReplications") or []],
                                  "tags": tag_map(db.get("TagList"))})
