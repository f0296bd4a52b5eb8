"""A large `kubectl get -o json` dump is read once, as a stream, and recorded in pages (each a whole List): the
inventory and verdicts are those of the same dump read whole (as YAML), a replay of its evidence derives them
again, the bundle verifies, and a syntax error deep in the file is an input error naming its line (exit 2,
nothing written)."""
from __future__ import annotations

import copy
import json
import random

import yaml

from mlps_scan.jsonstream import JsonObjectStream, JsonStreamError

from conftest import ROOT, run_cli

DATA = ROOT / "tests" / "data" / "k8s"
KINDS = ("nodes", "namespaces", "pods", "deployments", "statefulsets", "daemonsets", "jobs", "cronjobs", "services",
         "ingresses", "serviceaccounts", "networkpolicies", "roles", "rolebindings", "clusterroles",
         "clusterrolebindings", "secrets")


def big_dump(pods: int) -> dict:
    """The weak fixture cluster as kubectl dumps it, plus `pods` more pods (owned and not, with status
    blocks), ConfigMaps the scanner does not assess, and items carrying last-applied and managedFields."""
    items = []
    for res in KINDS:
        doc = json.loads((DATA / "weak" / f"{res}.json").read_text())
        items += [{"apiVersion": doc["apiVersion"], "kind": doc["kind"][:-4], **i} for i in doc["items"]]
    template = next(i for i in items if i["kind"] == "Pod" and i["metadata"].get("namespace") != "kube-system")
    rng = random.Random(5)
    for n in range(pods):
        p = copy.deepcopy(template)
        md = p["metadata"]
        md.update(name=f"bulk-{n}", uid=f"00000000-0000-0000-0000-{n:012d}",
                  managedFields=[{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}])
        if n % 3:
            md["ownerReferences"] = [{"kind": "ReplicaSet", "name": f"rs-{n // 10}", "uid": f"rs-{n // 10}"}]
        md.setdefault("annotations", {})["kubectl.kubernetes.io/last-applied-configuration"] = \
            json.dumps({"spec": {"containers": [{"env": [{"name": "X", "value": f"applied-{n}"}]}]}})
        p["status"] = {"phase": "Running", "containerStatuses": [
            {"containerID": f"containerd://{rng.getrandbits(256):064x}", "imageID": f"app@sha256:{rng.getrandbits(256):064x}"}]}
        items.append(p)
        if n % 50 == 0:
            items.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{n}", "namespace": "shop"},
                          "data": {"app.properties": f"db.password=cm-secret-{n}\n"}})
    return {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}


def _scan(tmp_path, name: str, static: str):
    cfg = tmp_path / f"{name}.yaml"
    cfg.write_text(f"system: {{name: stream test, level: 3}}\nstatic:\n  - {{{static}}}\n")
    out = tmp_path / name
    r = run_cli("scan", "--config", str(cfg), "--out", str(out), "--quiet", "--no-history")
    return r, out


def _load(out, name):
    return json.loads((out / name).read_text())


def _without_evidence(x):
    if isinstance(x, dict):
        return {k: _without_evidence(v) for k, v in x.items() if k != "evidence"}
    if isinstance(x, list):
        return [_without_evidence(i) for i in x]
    return x


def test_a_large_dump_is_recorded_in_pages_and_reads_as_the_whole_file(tmp_path):
    from mlps_scan.collectors.static import PAGE_ITEMS
    dump = big_dump(2 * PAGE_ITEMS + 40)
    n_items = len(dump["items"])
    (tmp_path / "dump.json").write_text(json.dumps(dump, indent=4))
    (tmp_path / "dump.yaml").write_text(yaml.safe_dump(dump))
    r, streamed = _scan(tmp_path, "streamed", f"name: c, path: {tmp_path / 'dump.json'}")
    assert r.returncode in (1, 3), r.stderr
    r, whole = _scan(tmp_path, "whole", f"name: c, path: {tmp_path / 'dump.yaml'}")
    assert r.returncode in (1, 3), r.stderr

    # pages: every one a List with the file's top-level entries and at most PAGE_ITEMS items, in order
    pages = sorted((json.loads(p.read_text()) for p in (streamed / "evidence").glob("static.*.json")),
                   key=lambda rec: rec["request"]["page"])
    assert len(pages) == -(-n_items // PAGE_ITEMS) >= 3
    assert [p["request"]["page"] for p in pages] == list(range(1, len(pages) + 1))
    for p in pages:
        assert {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}}.items() <= p["answer"].items()
        assert len(p["answer"]["items"]) <= PAGE_ITEMS and p["request"]["pages"] == len(pages)
    got_names = [i["metadata"]["name"] for p in pages for i in p["answer"]["items"]]
    assert got_names == [i["metadata"]["name"] for i in dump["items"]]
    # redacted as it was read: last-applied and ConfigMap secrets gone from the evidence
    text = "".join(p.read_text() for p in (streamed / "evidence").iterdir())
    assert "applied-7" not in text and "cm-secret-50" not in text

    # the same assets and verdicts as the file read whole; each asset cites the pages holding its kind
    inv_s, inv_w = _load(streamed, "inventory.json"), _load(whole, "inventory.json")
    assert _without_evidence(inv_s) == _without_evidence(inv_w)
    assert _without_evidence(_load(streamed, "findings.json")) == _without_evidence(_load(whole, "findings.json"))
    page_ids = {p["id"] for p in pages}
    pods = [a for a in inv_s["assets"] if a["type"] == "k8s.workload" and a["attributes"]["kind"] == "Pod"]
    assert pods and all(set(a["evidence"]) == page_ids for a in pods)  # pods fill every page
    nodes = [a for a in inv_s["assets"] if a["type"] == "k8s.node"]
    assert nodes and all(a["evidence"] == [pages[0]["id"]] for a in nodes)

    assert run_cli("verify", str(streamed)).returncode == 0

    # a replay of the bundle's evidence puts the pages back together: the same inventory, ids and all
    r, replay = _scan(tmp_path, "replay", f"name: c, path: {streamed}, format: evidence")
    assert r.returncode in (1, 3), r.stderr
    assert _load(replay, "inventory.json")["assets"] == inv_s["assets"]


def test_a_syntax_error_deep_in_a_streamed_dump_is_an_input_error(tmp_path):
    dump = big_dump(700)
    text = json.dumps(dump, indent=2)
    cut = text.index('"bulk-650"')
    bad = text[:cut] + '"bulk-650" "oops",' + text[cut + len('"bulk-650"'):]
    line = bad[:cut].count("\n") + 1
    (tmp_path / "dump.json").write_text(bad)
    r, out = _scan(tmp_path, "out", f"name: c, path: {tmp_path / 'dump.json'}")
    assert r.returncode == 2, r.stderr
    err = r.stderr.strip()
    assert len(err.splitlines()) == 1 and "dump.json" in err and f"line {line}" in err and "malformed JSON" in err, err
    assert "Traceback" not in r.stderr and not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]  # no stage left behind


def test_the_stream_reader_agrees_with_json_loads_across_buffer_boundaries(tmp_path):
    rng = random.Random(3)

    def value(depth=0):
        r = rng.random()
        if depth > 3 or r < 0.3:
            return rng.choice([rng.randint(-10**12, 10**12), rng.random() * 1e6, "é\"\\\n\t" * rng.randint(0, 3),
                               True, None, "x" * rng.randint(0, 40), 1e-7])
        if r < 0.65:
            return {f"k{i}": value(depth + 1) for i in range(rng.randint(0, 5))}
        return [value(depth + 1) for _ in range(rng.randint(0, 5))]

    doc = {"apiVersion": "v1", "items": [value() for _ in range(300)], "kind": "List", "z": {"deep": [1, 2]}}
    p = tmp_path / "d.json"
    for indent in (None, 3):
        p.write_text(json.dumps(doc, indent=indent, ensure_ascii=False))
        for chunk in (1, 7, 4096):
            got = {}
            with JsonObjectStream(p, chunk=chunk) as st:
                for k, v in st:
                    got[k] = list(v) if k == "items" else v
            assert got == json.loads(p.read_text()), (indent, chunk)
    p.write_text('{"items": [1, 2,\n 3,\n ], "kind": "List"}')
    try:
        with JsonObjectStream(p, chunk=5) as st:
            for k, v in st:
                list(v) if k == "items" else None
        raise AssertionError("no error")
    except JsonStreamError as e:
        assert e.line == 3, e
