"""A collector's session reads back only the evidence it wrote itself.

Targets of one collector run in parallel and write into the same evidence folder; the recorder lists a
record in its index before the record's file is complete. Reading back "every record of my collector, then
keep my target's" (what the collectors did) could open another target's half-written file and crash the
target: tests/test_k8s_collector.py::test_eks_control_plane_read_through_aws lost its eks-gone cluster that
way under load. These tests put another target's record in exactly that state."""
from __future__ import annotations

from mlps_scan.evidence import Recorder
from mlps_scan.plugins import CollectSession


def sessions(tmp_path):
    recorder = Recorder(tmp_path)
    mine = CollectSession("kubernetes", "eks-gone", recorder, base_dir=tmp_path)
    other = CollectSession("kubernetes", "eks-prod", recorder, base_dir=tmp_path)
    return recorder, mine, other


def test_another_targets_record_not_yet_on_disk_is_not_read(tmp_path):
    recorder, mine, other = sessions(tmp_path)
    first = mine.record("version", {"gitVersion": "v1.29.0"})
    theirs = other.record("version", {"gitVersion": "v1.30.0"})
    second = mine.record("eks:DescribeCluster", None, status="error", error="ResourceNotFoundException")
    (recorder.dir / f"{theirs.id}.json").unlink()  # indexed, file not written yet
    assert [r.id for r in mine.records()] == [first.id, second.id]


def test_another_targets_half_written_record_is_not_read(tmp_path):
    recorder, mine, other = sessions(tmp_path)
    first = mine.record("version", {"gitVersion": "v1.29.0"})
    theirs = other.record("list:pods", {"items": [{"metadata": {"name": "p"}}]})
    path = recorder.dir / f"{theirs.id}.json"
    path.write_text(path.read_text()[:40])  # cut off mid-write
    got = mine.records()
    assert [r.id for r in got] == [first.id] and got[0].answer == {"gitVersion": "v1.29.0"}


def test_records_come_back_as_stored_in_recording_order(tmp_path):
    recorder, mine, other = sessions(tmp_path)
    ids = []
    for n in range(3):
        ids.append(mine.record(f"list:kind{n}", {"items": [], "token": "Bearer abcdefghijklmnopqrstuvwxyz0123"}).id)
        other.record(f"list:kind{n}", {"items": []})
    got = mine.records()
    assert [r.id for r in got] == ids
    assert all(r.target == "eks-gone" for r in got)
    assert "abcdefghijklmnopqrstuvwxyz0123" not in str([r.answer for r in got])  # the redacted form


def test_kept_records_are_the_records_as_written(tmp_path):
    """A session that keeps its records (the AWS collector: it derives from all of them at once) hands back
    exactly what reading the files back gives: the same values, types and order, secrets already gone."""
    import datetime as dt

    from mlps_scan.models import EvidenceRecord

    recorder = Recorder(tmp_path)
    kept = CollectSession("aws", "acct", recorder, base_dir=tmp_path)
    kept.keep_records = True
    when = dt.datetime(2026, 11, 30, 3, 4, 5, 678901, tzinfo=dt.timezone.utc)
    kept.record("kms:DescribeKey", {"KeyMetadata": {"CreationDate": when, "Enabled": True, "N": 1, "F": 1.5,
                                                    "Tags": ({"Key": "DB_PASSWORD", "Value": "hunter2-hunter2"},),
                                                    "Blob": b"\xff-bytes", "Inf": float("inf"), 3: None}},
                request={"region": "cn-north-1", "params": {"KeyId": "k1"}})
    kept.record("iam:GetCredentialReport", request={"region": "cn-north-1", "params": {}}, status="denied",
                error="AccessDenied: password=hunter2-hunter2 is not allowed")
    kept.record("s3:ListBuckets", {"Buckets": [{"Name": "b", "CreationDate": when}], "Owner": {"ID": "x"}},
                request={"region": "cn-north-1", "params": {}})
    got = kept.records()
    assert len(got) == 3 and len(kept._kept) == 3
    from_disk = [EvidenceRecord.model_validate_json((recorder.dir / f"{r.id}.json").read_text()) for r in got]
    assert [r.model_dump() for r in got] == [r.model_dump() for r in from_disk]
    assert [r.model_dump_json() for r in got] == [r.model_dump_json() for r in from_disk]
    assert "hunter2" not in repr([r.model_dump() for r in got])
