"""Shards: `scan --shard K/N` and `--only` split a config's units deterministically, every unit in exactly one
shard; `merge` makes the whole again and refuses what is not one whole (overlap, gaps, another config or level)
unless told to accept gaps, which then never pass."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import check_bundle, run_cli
from mlps_scan.config import load_config
from mlps_scan.errors import InputError
from mlps_scan.evidence import Recorder
from mlps_scan.plugins import CollectSession
from mlps_scan.runner import ShardSelection, plan_shard

FW = {"default_action": "deny", "logging": True, "log_destination": "syslog://x",
      "rules": [{"name": "web", "action": "allow", "source": "any", "destination": "10.0.0.1", "ports": "443",
                 "protocol": "tcp"}]}
KUBECONFIG = {"apiVersion": "v1", "kind": "Config", "current-context": "c",
              "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
              "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}], "users": [{"name": "u", "user": {}}]}


# --------------------------------------------------------------------------- the unit split (property)

names = st.text("abcdefghij", min_size=1, max_size=6)
hosts_entry = st.one_of(
    st.tuples(st.integers(0, 255), st.integers(0, 255)).map(lambda t: f"10.{t[0]}.{t[1]}.7"),
    st.tuples(st.integers(0, 255), st.sampled_from([20, 22, 24, 26, 30])).map(lambda t: f"10.{t[0]}.0.0/{t[1]}"),
    st.sampled_from(["web01", "db01.example.internal", "fd00::5", "fd00::/118"]),
)
config_parts = st.fixed_dictionaries({
    "static": st.lists(names, max_size=4, unique=True),
    "hosts": st.lists(st.tuples(names, st.lists(hosts_entry, min_size=1, max_size=5)), max_size=3,
                      unique_by=lambda t: t[0]),
    "aws": st.lists(st.tuples(names, st.lists(st.sampled_from(["cn-north-1", "cn-northwest-1"]), max_size=2,
                                              unique=True)), max_size=3, unique_by=lambda t: t[0]),
    "kubernetes": st.lists(names, max_size=2, unique=True),
})


def write_config(d: Path, parts: dict) -> Path:
    (d / "kubeconfig").write_text(yaml.safe_dump(KUBECONFIG))
    for n in parts["static"]:
        (d / f"{n}.yaml").write_text(yaml.safe_dump({"assets": []}))
    doc = {"system": {"name": "P", "level": 3},
           "static": [{"name": n, "path": f"{n}.yaml"} for n in parts["static"]],
           "hosts": [{"name": n, "targets": t} for n, t in parts["hosts"]],
           "aws": [{"name": n, **({"regions": r} if r else {})} for n, r in parts["aws"]],
           "kubernetes": [{"name": n, "kubeconfig": "kubeconfig"} for n in parts["kubernetes"]]}
    (d / "scan.yaml").write_text(yaml.safe_dump(doc))
    return d / "scan.yaml"


def shard_plan(cfg, tmp: Path, sel: ShardSelection):
    """What `scan --shard` plans, through the real collectors' unit lists (no peer is asked for these)."""
    rec = Recorder(tmp / f"ev-{sel.index}-{sel.count}")
    jobs = [(cls(), t, CollectSession(cls.name, cls().target_name(t), rec, base_dir=cfg.base_dir))
            for cls, t in cfg.targets()]
    return plan_shard(jobs, sel)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=config_parts, n=st.integers(1, 9), data=st.data())
def test_the_shards_of_any_config_cover_every_unit_exactly_once(tmp_path_factory, parts, n, data):
    d = tmp_path_factory.mktemp("cfg")
    cfg = load_config(write_config(d, parts))
    whole, _ = shard_plan(cfg, d, ShardSelection(1, 1))
    every = [u for units in whole.targets.values() for u in units]
    assert len(every) == len(set(every))
    got = []
    for k in range(1, n + 1):
        plan, kept = shard_plan(cfg, d, ShardSelection(k, n))
        assert plan.targets == whole.targets  # every shard lists the same units
        got += plan.covered
        for _, t, s in kept:  # the sessions collect exactly the shard's units of their target
            units = plan.targets[f"{s.collector}/{s.target}"]
            assert (s.units or units) == [u for u in units if u in plan.covered]
    assert sorted(got) == sorted(every) and len(got) == len(set(got))
    # by reach: the targets --only names, split again, are still each unit once
    keys = list(whole.targets)
    if keys:
        only = tuple(data.draw(st.lists(st.sampled_from(keys), min_size=1, unique=True)))
        m = data.draw(st.integers(1, 4))
        part = []
        for k in range(1, m + 1):
            plan, _ = shard_plan(cfg, d, ShardSelection(k, m, only))
            assert all(plan.targets[x] is None for x in keys if x not in only)
            part += plan.covered
        assert sorted(part) == sorted(u for x in only for u in whole.targets[x])


def test_units_of_the_built_in_collectors(tmp_path):
    parts = {"static": ["fw"], "hosts": [("idc", ["10.1.0.0/22", "10.1.1.9", "web01"])],
             "aws": [("prod", ["cn-north-1", "cn-northwest-1"]), ("dev", [])], "kubernetes": ["k1"]}
    cfg = load_config(write_config(tmp_path, parts))
    plan, _ = shard_plan(cfg, tmp_path, ShardSelection(1, 1))
    assert plan.targets == {
        "aws/dev": ["aws/dev"], "aws/prod": ["aws/prod/cn-north-1", "aws/prod/cn-northwest-1"],
        "hosts/idc": ["hosts/idc/10.1.0.0/24", "hosts/idc/10.1.1.0/24", "hosts/idc/10.1.2.0/24",
                      "hosts/idc/10.1.3.0/24", "hosts/idc/10.1.1.9", "hosts/idc/web01"],
        "kubernetes/k1": ["kubernetes/k1"], "static/fw": ["static/fw"]}
    with pytest.raises(InputError, match="--only hosts/nope: no such target"):
        shard_plan(cfg, tmp_path, ShardSelection(1, 1, ("hosts/nope",)))


def test_targets_sharing_a_name_cannot_be_sharded(tmp_path):
    (tmp_path / "a.yaml").write_text("assets: []\n")
    (tmp_path / "scan.yaml").write_text(yaml.safe_dump({"system": {"name": "P", "level": 3},
                                                        "static": [{"path": "a.yaml"}, {"path": "a.yaml"}]}))
    r = run_cli("scan", "--config", str(tmp_path / "scan.yaml"), "--shard", "1/2", "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "two targets are named static/a" in r.stderr and not (tmp_path / "o").exists()


# --------------------------------------------------------------------------- shards and merge end to end


@pytest.fixture
def zones(tmp_path):
    """A system of four firewall exports (one per zone), one scan config."""
    for i, z in enumerate(["dc-a", "dc-b", "dc-c", "dc-d"]):
        doc = {"assets": [{"type": "network.firewall", "id": f"fw-{z}",
                           "attributes": {**FW, "default_action": "allow" if i == 3 else "deny"}}]}
        if z == "dc-b":  # a waiver in one zone's file: the merged assessment judges it as the whole scan does
            doc["waivers"] = [{"id": "W-1", "checks": ["network.firewall.redundant_rules"], "justification": "x",
                               "approved_by": "CISO", "approved_on": "2026-11-20", "expires": "2027-01-31"}]
        (tmp_path / f"{z}.yaml").write_text(yaml.safe_dump(doc))
    # a declared scope and a profile of the config's own: the merge of its shards keeps both
    doc = {"system": {"name": "Shop", "level": 3, "extensions": []}, "profile": {"password_min_length": 12},
           "static": [{"name": z, "path": f"{z}.yaml"} for z in ["dc-a", "dc-b", "dc-c", "dc-d"]]}
    (tmp_path / "scan.yaml").write_text(yaml.safe_dump(doc))
    return tmp_path


def scan(d: Path, out: str, *args: str):
    r = run_cli("scan", "--config", str(d / "scan.yaml"), "--out", str(d / out), "--quiet", *args)
    assert r.returncode in (0, 1), r.stderr
    return d / out


def results(out: Path):
    f = json.loads((out / "findings.json").read_text())
    c = json.loads((out / "controls.json").read_text())
    return (sorted((x["check_id"], x["resource_id"], x["scope"], x["status"], x["message"]) for x in f),
            {x["control_id"]: x["status"] for x in c})


def _without_evidence_ids(v):
    """A document with its evidence id lists left out (a shard's records have ids of their own)."""
    if isinstance(v, dict):
        return {k: _without_evidence_ids(x) for k, x in v.items() if k != "evidence"}
    if isinstance(v, list):
        return [_without_evidence_ids(x) for x in v]
    return v


def judgement(out: Path):
    """The assessment (scope, waivers, as-of, conclusion) and the profile and scope the bundle was judged with."""
    a = json.loads((out / "assessment.json").read_text())
    st = json.loads((out / "scan.json").read_text())
    return _without_evidence_ids(a), st["profile"], st.get("scope")


def test_shards_merge_into_the_whole_scan(zones, tmp_path):
    hist = str(tmp_path / "history.sqlite3")
    whole = scan(zones, "whole", "--as-of", "2026-12-01", "--no-history")
    shards = [scan(zones, f"s{k}", "--shard", f"{k}/3", "--history", hist) for k in (1, 2, 3)]
    infos = [json.loads((s / "manifest.json").read_text())["shard"] for s in shards]
    assert [i["covered"] for i in infos] == [["static/dc-a"], ["static/dc-b"], ["static/dc-c", "static/dc-d"]]
    assert len({i["config_sha256"] for i in infos}) == 1 and all(i["count"] == 3 for i in infos)
    assert infos[0]["targets"] == {f"static/{z}": [f"static/{z}"] for z in ["dc-a", "dc-b", "dc-c", "dc-d"]}
    out = tmp_path / "merged"
    assert not (tmp_path / "history.sqlite3").exists()  # a shard is a part, not a scan of the system
    r = run_cli("merge", *map(str, shards[::-1]), "--out", str(out), "--quiet", "--history", hist,
                "--as-of", "2026-12-01")  # any order
    assert r.returncode == 1, r.stderr  # dc-d's firewall fails
    h = json.loads(run_cli("history", "--history", hist, "--format", "json").stdout)
    assert [x["bundle_path"] for x in h["scans"]] == [str(out)]  # the merged bundle is the system's scan
    assert results(out) == results(whole)
    assert judgement(out) == judgement(whole)
    a, profile, scope = judgement(out)
    assert a["as_of"] == "2026-12-01" and [w["id"] for w in a["waivers"]] == ["W-1"]
    assert profile["password_min_length"] == 12 and scope["source"] == "declared" and scope["extensions"] == []
    merged = json.loads((out / "manifest.json").read_text())["shard"]
    assert merged["index"] is None and merged["gaps"] == [] and len(merged["covered"]) == 4
    assert run_cli("verify", str(out)).returncode == 0
    assert run_cli("check", str(out), "--quiet").returncode == 1
    assert check_bundle(out).returncode == 0


def test_merge_names_the_gap_and_allow_partial_makes_it_error(zones, tmp_path):
    s1, s3 = scan(zones, "s1", "--shard", "1/4"), scan(zones, "s4", "--shard", "4/4")
    r = run_cli("merge", str(s1), str(s3), "--out", str(tmp_path / "m"))
    assert r.returncode == 2 and not (tmp_path / "m").exists()
    assert "2 unit(s) no shard scanned: static/dc-b, static/dc-c" in r.stderr and "--allow-partial" in r.stderr
    r = run_cli("merge", str(s1), str(s3), "--out", str(tmp_path / "m"), "--allow-partial", "--quiet")
    assert r.returncode == 3, r.stderr  # partial
    assert "partial scan" in r.stderr and "static/dc-b: not scanned: no merged shard covered static/dc-b" in r.stderr
    m = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert m["partial"] is True and m["shard"]["gaps"] == ["static/dc-b", "static/dc-c"]
    findings = json.loads((tmp_path / "m" / "findings.json").read_text())
    gap = [f for f in findings if f["scope"] in ("static/dc-b", "static/dc-c")]
    assert gap and {f["status"] for f in gap} == {"error"}
    # the gap's error evidence is in the bundle, and nothing judged by a firewall check is compliant
    ev = {p.stem for p in (tmp_path / "m" / "evidence").glob("*.json")}
    assert all(set(f["evidence"]) <= ev and f["evidence"] for f in gap)
    ctl = {c["control_id"]: c for c in json.loads((tmp_path / "m" / "controls.json").read_text())}
    fw_controls = {cid for f in findings if f["resource_type"] == "network.firewall" for cid in f["control_ids"]}
    assert fw_controls and all(ctl[c]["status"] != "compliant" for c in fw_controls)
    assert check_bundle(tmp_path / "m").returncode == 0


def test_merge_refuses_overlap_other_configs_levels_and_mixing(zones, tmp_path):
    s1, s2 = scan(zones, "s1", "--shard", "1/2"), scan(zones, "s2", "--shard", "2/2")
    cases = {
        "overlap": ([s1, s1 / "bundle.zip", s2], "shards overlap: static/dc-a was scanned by"),
        "level": ([s1, scan(zones, "s2l2", "--shard", "2/2", "--level", "2")], "shards of different levels"),
        "whole": ([s1, scan(zones, "whole")], "is a shard of a scan config and"),
    }
    other = tmp_path / "other"
    other.mkdir()
    for f in zones.glob("*.yaml"):
        (other / f.name).write_text(f.read_text())
    doc = yaml.safe_load((other / "scan.yaml").read_text())
    doc["static"][0]["format"] = "assets"  # one setting differs: another config
    (other / "scan.yaml").write_text(yaml.safe_dump(doc))
    cases["config"] = ([s1, scan(other, "s2", "--shard", "2/2")], "shards of different configs")
    for name, (bundles, msg) in cases.items():
        r = run_cli("merge", *map(str, bundles), "--out", str(tmp_path / f"m-{name}"), "--allow-partial")
        assert r.returncode == 2 and msg in r.stderr, (name, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / f"m-{name}").exists()


def test_only_shards_by_reach_and_merge_signed(zones, tmp_path):
    key = tmp_path / "k.pem"
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    key.write_bytes(Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                                serialization.NoEncryption()))
    a = scan(zones, "a", "--only", "static/dc-a", "--only", "static/dc-b", "--sign-key", str(key))
    b = scan(zones, "b", "--only", "static/dc-c", "--sign-key", str(key))
    c = scan(zones, "c", "--only", "static/dc-d", "--shard", "1/1", "--sign-key", str(key))
    info = json.loads((a / "manifest.json").read_text())["shard"]
    assert info["only"] == ["static/dc-a", "static/dc-b"] and info["covered"] == ["static/dc-a", "static/dc-b"]
    assert info["targets"]["static/dc-c"] is None  # not listed by this runner
    assert run_cli("verify", str(a)).returncode == 0
    out = tmp_path / "merged"
    r = run_cli("merge", str(a / "bundle.zip"), str(b), str(c), "--out", str(out), "--sign-key", str(key), "--quiet")
    assert r.returncode == 1, r.stderr
    assert results(out) == results(scan(zones, "whole"))
    assert run_cli("verify", str(out)).returncode == 0 and check_bundle(out).returncode == 0


@pytest.mark.k8s
def test_cluster_and_zone_shards_merge_into_the_whole_scan(k8s_api, tmp_path):
    """A cluster is one unit: the shard that holds it scans it through the real client, and the merge rebuilds
    its inventory from that shard's evidence exactly as the unsharded scan derived it."""
    srv = k8s_api("weak")
    (tmp_path / "dc-a.yaml").write_text(yaml.safe_dump({"assets": [{
        "type": "network.firewall", "id": "fw-dc-a", "attributes": FW}]}))
    doc = {"system": {"name": "Shop", "level": 3},
           "kubernetes": [{"name": "weak", "kubeconfig": str(srv.kubeconfig), "page_size": 3, "kubelet_config": True}],
           "static": [{"name": "dc-a", "path": "dc-a.yaml"}]}
    (tmp_path / "scan.yaml").write_text(yaml.safe_dump(doc))

    def run(out: str, *args: str) -> Path:
        r = run_cli("scan", "--config", str(tmp_path / "scan.yaml"), "--out", str(tmp_path / out), "--quiet",
                    "--no-history", "--as-of", "2026-12-01", *args)
        assert r.returncode in (0, 1), r.stderr  # 1: the weak cluster fails checks
        return tmp_path / out

    whole = run("whole")
    assert json.loads((whole / "manifest.json").read_text())["partial"] is False
    shards = [run(f"s{k}", "--shard", f"{k}/2") for k in (1, 2)]
    covered = [json.loads((s / "manifest.json").read_text())["shard"]["covered"] for s in shards]
    assert sorted(covered) == [["kubernetes/weak"], ["static/dc-a"]]
    out = tmp_path / "merged"
    r = run_cli("merge", *map(str, shards), "--out", str(out), "--quiet", "--no-history", "--as-of", "2026-12-01")
    assert r.returncode == 1, r.stderr
    assert results(out) == results(whole)
    assert judgement(out) == judgement(whole)
    inv = {(a["type"], a["id"]) for a in json.loads((out / "inventory.json").read_text())["assets"]}
    assert inv == {(a["type"], a["id"]) for a in json.loads((whole / "inventory.json").read_text())["assets"]}
    assert run_cli("verify", str(out)).returncode == 0 and check_bundle(out).returncode == 0
