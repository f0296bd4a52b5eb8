"""deploy/: the AWS member-role template and policies, the Kubernetes Indexed Job, the Dockerfile and the CI
matrix examples are well formed, and every command line they run is one the CLI accepts.

The manifests are read with the official Kubernetes client's models (a field the API does not know is lost on
the way through, and the test sees it); the shell scripts of the containers and CI steps run in a real /bin/sh
with the variables the scheduler sets, and an `mlps-scan` stand-in on PATH records each argument vector, which
the CLI's own parser must accept. No cluster, runner or Docker engine is needed."""
from __future__ import annotations

import fnmatch
import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from mlps_scan.cli import build_parser

DEPLOY = ROOT / "deploy"
FAKE = """#!{python}
import json, os, sys
with open(os.environ["FAKE_LOG"], "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\\n")
sys.exit(int(os.environ.get("FAKE_RC_" + (sys.argv[1] if len(sys.argv) > 1 else "none").upper(), "0")))
"""


def run_script(script: str, env: dict, tmp: Path, timeout: float = 30) -> tuple[int, list[list[str]]]:
    """Run a container/CI shell script with a recording `mlps-scan`; (exit code, argument vectors)."""
    bindir = tmp / "bin"
    bindir.mkdir(exist_ok=True)
    fake = bindir / "mlps-scan"
    fake.write_text(FAKE.format(python=sys.executable))
    fake.chmod(0o755)
    log = tmp / "argv.log"
    log.unlink(missing_ok=True)
    e = {"PATH": f"{bindir}:/usr/bin:/bin", "FAKE_LOG": str(log), **{k: str(v) for k, v in env.items()}}
    p = subprocess.run(["/bin/sh", "-c", script], env=e, cwd=tmp, timeout=timeout, capture_output=True, text=True)
    argv = [json.loads(x) for x in log.read_text().splitlines()] if log.exists() else []
    return p.returncode, argv


def parse(argv: list[str]):
    """The CLI's parser must accept it (its errors are InputError, which fails the test)."""
    return build_parser().parse_args(argv)


def target_keys(config: dict) -> set[str]:
    from mlps_scan.config import scan_config_model
    model = scan_config_model().model_validate(config)  # the config shipped with the example is valid
    from mlps_scan.plugins import collectors
    return {cls().target_key(t) for cls in collectors().values() for t in getattr(model, cls.config_key)}


# --------------------------------------------------------------------------- Kubernetes


def k8s_docs(name: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((DEPLOY / "kubernetes" / name).read_text()) if d]


MODELS = {("v1", "Namespace"): "V1Namespace", ("v1", "ServiceAccount"): "V1ServiceAccount",
          ("v1", "ConfigMap"): "V1ConfigMap", ("v1", "Secret"): "V1Secret",
          ("v1", "PersistentVolumeClaim"): "V1PersistentVolumeClaim", ("batch/v1", "Job"): "V1Job",
          ("rbac.authorization.k8s.io/v1", "ClusterRole"): "V1ClusterRole",
          ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): "V1ClusterRoleBinding"}


def _clean(v):
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [_clean(x) for x in v]
    return v


@pytest.mark.parametrize("name", ["mlps-scan-job.yaml", "mlps-scan-clusterrole.yaml"])
def test_manifests_are_api_objects_the_client_reads_without_loss(name):
    from kubernetes.client import ApiClient

    api = ApiClient()
    for doc in k8s_docs(name):
        model = MODELS.get((doc["apiVersion"], doc["kind"]))
        assert model, f"{name}: unexpected {doc['apiVersion']} {doc['kind']}"
        # read as an API server's answer would be: the models check required fields and drop unknown ones
        obj = api.deserialize(json.dumps(doc), model, "application/json")
        back = _clean(api.sanitize_for_serialization(obj))
        assert back == _clean(doc), f"{name}: {doc['kind']} {doc['metadata']['name']}: a field the API does not know"


def _objects():
    docs = k8s_docs("mlps-scan-job.yaml")
    by = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    return by, by[("Job", "mlps-scan-shards")], by[("Job", "mlps-scan-merge")]


def _env(container: dict) -> dict:
    return {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}


def _script(container: dict) -> str:
    assert container["command"] == ["/bin/sh", "-c"] and len(container["args"]) == 1
    return container["args"][0]


def _mounted(pod: dict, container: dict, path: str) -> tuple[dict, str]:
    """(the volume holding `path` in the container, the path inside the volume)."""
    for m in sorted(container["volumeMounts"], key=lambda m: -len(m["mountPath"])):
        if path == m["mountPath"] or path.startswith(m["mountPath"].rstrip("/") + "/"):
            vol = next(v for v in pod["volumes"] if v["name"] == m["name"])
            return vol, path[len(m["mountPath"]):].lstrip("/")
    raise AssertionError(f"{path} is on no volume of container {container['name']}")


def test_the_indexed_job_runs_one_accepted_scan_per_index(tmp_path):
    by, job, _ = _objects()
    spec = job["spec"]
    n = spec["completions"]
    pod = spec["template"]["spec"]
    (c,) = pod["containers"]
    assert spec["completionMode"] == "Indexed" and spec["parallelism"] == n and int(_env(c)["SHARDS"]) == n
    assert pod["restartPolicy"] == "Never" and pod["securityContext"]["runAsNonRoot"] is True
    config = yaml.safe_load(by[("ConfigMap", "mlps-scan-config")]["data"]["scan.yaml"])
    keys = target_keys(config)
    secret = by[("Secret", "mlps-scan-credentials")]["stringData"]
    outs = []
    for index in range(n):  # Kubernetes sets JOB_COMPLETION_INDEX to 0..N-1 in the pods of an Indexed Job
        rc, argv = run_script(_script(c), {**_env(c), "JOB_COMPLETION_INDEX": index}, tmp_path)
        assert rc == 0 and len(argv) == 1, argv
        a = parse(argv[0])
        assert a.cmd == "scan" and a.shard == (index + 1, n) and a.no_history and a.fail_on == "never"
        assert all(o in keys for o in a.only or [])
        vol, key = _mounted(pod, c, str(a.config))
        assert vol["configMap"]["name"] == "mlps-scan-config" and key == "scan.yaml"
        vol, key = _mounted(pod, c, str(a.sign_key))
        assert vol["secret"]["secretName"] == "mlps-scan-credentials" and key in secret
        vol, _ = _mounted(pod, c, str(a.out))
        assert vol["persistentVolumeClaim"]["claimName"] == "mlps-scan-bundles"
        outs.append(str(a.out))
    assert len(set(outs)) == n
    for path in (v for t in yaml.safe_load(by[("ConfigMap", "mlps-scan-config")]["data"]["scan.yaml"]).values()
                 if isinstance(t, list) for x in t for v in _paths(x)):
        vol, key = _mounted(pod, c, path)  # every file the config names is in the Secret
        assert vol.get("secret", {}).get("secretName") == "mlps-scan-credentials" and key in secret, path


def _paths(target: dict) -> list[str]:
    out = [target[k] for k in ("kubeconfig",) if k in target]
    out += [target.get("ssh", {})[k] for k in ("key", "known_hosts") if k in target.get("ssh", {})]
    return out


def test_the_merge_job_waits_for_every_shard_then_merges_and_verifies(tmp_path):
    by, shards, merge = _objects()
    n = shards["spec"]["completions"]
    pod = merge["spec"]["template"]["spec"]
    (init,), (c,) = pod["initContainers"], pod["containers"]
    shard_env = _env(shards["spec"]["template"]["spec"]["containers"][0])
    for x in (init, c):
        assert {k: _env(x)[k] for k in ("SHARDS", "RUN")} == {k: shard_env[k] for k in ("SHARDS", "RUN")}
        assert x["image"] == shards["spec"]["template"]["spec"]["containers"][0]["image"]
    claims = {v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"] if "persistentVolumeClaim" in v}
    assert claims == {"mlps-scan-bundles"} and merge["spec"]["backoffLimit"] == 0
    # the shard bundles as the shard pods leave them, on a copy of the volume
    vol = tmp_path / "bundles"
    run = vol / shard_env["RUN"]
    for k in range(1, n + 1):
        (run / f"shard-{k}").mkdir(parents=True)
    (run / f".shard-{n}.partial-x").mkdir()  # a shard still writing

    def local(script: str) -> str:
        return script.replace("/bundles", str(vol))

    for k in range(1, n):
        (run / f"shard-{k}" / "manifest.json").write_text("{}")
    with pytest.raises(subprocess.TimeoutExpired):  # one shard missing: it keeps waiting
        run_script(local(_script(init)), _env(init), tmp_path, timeout=3)
    (run / f"shard-{n}" / "manifest.json").write_text("{}")
    rc, _ = run_script(local(_script(init)), _env(init), tmp_path, timeout=20)
    assert rc == 0
    rc, argv = run_script(local(_script(c)), _env(c), tmp_path)
    assert rc == 0 and [a[0] for a in argv] == ["merge", "verify"]
    m, v = parse(argv[0]), parse(argv[1])
    assert sorted(map(str, m.bundles)) == [str(run / f"shard-{k}") for k in range(1, n + 1)]
    assert not m.allow_partial and str(v.bundle) == str(m.out) and v.public_key
    rc, argv = run_script(local(_script(c)), {**_env(c), "FAKE_RC_MERGE": 3}, tmp_path)  # partial: still verified
    assert rc == 3 and [a[0] for a in argv] == ["merge", "verify"]
    rc, argv = run_script(local(_script(c)), {**_env(c), "FAKE_RC_MERGE": 2}, tmp_path)  # not a whole: no bundle
    assert rc == 2 and [a[0] for a in argv] == ["merge"]
    rc, argv = run_script(local(_script(c)), {**_env(c), "FAKE_RC_VERIFY": 1}, tmp_path)
    assert rc == 1


# --------------------------------------------------------------------------- Dockerfile


def test_dockerfile_builds_the_image_from_the_wheel():
    from dockerfile_parse import DockerfileParser

    df = DockerfileParser(path=str(ROOT / "Dockerfile"))
    ins = df.structure
    stages = [i for i in ins if i["instruction"] == "FROM"]
    assert len(stages) == 2
    build_name = stages[0]["value"].split()[-1]
    final = ins[ins.index(stages[1]):]
    # both stages on a Python the package supports
    import tomllib
    proj = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    want = tuple(int(x) for x in re.search(r">=\s*(\d+)\.(\d+)", proj["requires-python"]).groups())
    for s in stages:
        m = re.match(r"python:(\d+)\.(\d+)", s["value"])
        assert m and tuple(map(int, m.groups())) >= want, s["value"]
    # the wheel stage gets everything the wheel is built from (setup.py maps these trees) and builds the wheel
    build = ins[:ins.index(stages[1])]
    copied = {p.rstrip("/") for i in build if i["instruction"] == "COPY" for p in i["value"].split()[:-1]}
    assert {"pyproject.toml", "setup.py", proj["readme"], "src", "collectors", "checks"} <= copied
    assert any(i["instruction"] == "RUN" and "pip wheel" in i["value"] for i in build)
    # ... and the build context holds them (.dockerignore re-includes each)
    ignore = [x.strip() for x in (ROOT / ".dockerignore").read_text().splitlines() if x.strip() and not x.startswith("#")]
    for path in copied:
        assert (ROOT / path).exists(), path
        kept = True
        for pat in ignore:
            neg = pat.startswith("!")
            if fnmatch.fnmatch(path, pat.lstrip("!").rstrip("/")):
                kept = neg
        assert kept, f"{path} is excluded from the build context by .dockerignore"
    # the image installs only the wheel built above, runs unprivileged, and starts the console script
    assert any(i["instruction"] == "COPY" and f"--from={build_name}" in i["value"] for i in final)
    assert any(i["instruction"] == "RUN" and re.search(r"pip install .*mlps_scan-\*\.whl", i["value"]) for i in final)
    assert not any(i["instruction"] == "ADD" for i in ins)
    user = [i["value"] for i in final if i["instruction"] == "USER"][-1]
    assert user.isdigit() and int(user) != 0
    job_user = _objects()[1]["spec"]["template"]["spec"]["securityContext"]["runAsUser"]
    assert int(user) == job_user
    entry = json.loads([i["value"] for i in final if i["instruction"] == "ENTRYPOINT"][-1])
    assert entry == ["mlps-scan"] and "mlps-scan" in proj["scripts"]
    assert any(i["instruction"] == "RUN" and "nmap" in i["value"] for i in final)  # host discovery


# --------------------------------------------------------------------------- CI matrix examples


def _gh_expr(text: str, values: dict) -> str:
    def sub(m):
        key = m.group(1).strip()
        assert key in values, f"unexpected expression {key}"
        return str(values[key])
    return re.sub(r"\$\{\{\s*([^}]+?)\s*\}\}", sub, text)


def test_github_actions_matrix_runs_accepted_commands_that_cover_the_config(tmp_path):
    wf = yaml.safe_load((DEPLOY / "ci" / "github-actions.yml").read_text())
    keys = target_keys(yaml.safe_load((DEPLOY / "ci" / "scan.yaml").read_text()))
    scans, merges = [], []
    for name, job in wf["jobs"].items():
        matrix = (job.get("strategy") or {}).get("matrix") or {}
        combos = [dict(zip(matrix, v)) for v in itertools.product(*matrix.values())] or [{}]
        for combo in combos:
            values = {f"matrix.{k}": v for k, v in combo.items()}
            values["strategy.job-total"] = len(combos)
            for step in job["steps"]:
                if "mlps-scan" not in step.get("run", ""):
                    continue
                script = _gh_expr(step["run"], values)
                if name == "merge":
                    for z in ("shard-1", "zone-idc-shanghai"):
                        (tmp_path / "bundles" / z).mkdir(parents=True, exist_ok=True)
                        (tmp_path / "bundles" / z / "bundle.zip").write_text("")
                rc, argv = run_script(script, {}, tmp_path)
                assert rc == 0 and argv, (name, step)
                for a in map(parse, argv):
                    (scans if a.cmd == "scan" else merges).append((name, combo, a))
    _check_ci(scans, merges, keys, shards=4)


def test_gitlab_parallel_jobs_run_accepted_commands_that_cover_the_config(tmp_path):
    ci = yaml.safe_load((DEPLOY / "ci" / "gitlab-ci.yml").read_text())
    keys = target_keys(yaml.safe_load((DEPLOY / "ci" / "scan.yaml").read_text()))
    scans, merges = [], []
    for name, job in ci.items():
        if name.startswith(".") or not isinstance(job, dict) or "script" not in job:
            continue
        par = job.get("parallel")
        if isinstance(par, int):  # GitLab sets CI_NODE_INDEX 1..N and CI_NODE_TOTAL N
            combos = [{"CI_NODE_INDEX": i, "CI_NODE_TOTAL": par} for i in range(1, par + 1)]
        elif isinstance(par, dict):
            combos = [dict(zip(m, v)) for m in par["matrix"] for v in itertools.product(*m.values())]
        else:
            combos = [{}]
        for combo in combos:
            if name == "merge":
                for z in ("shard-1", "zone-idc-shanghai"):
                    (tmp_path / "bundles" / z).mkdir(parents=True, exist_ok=True)
            rc, argv = run_script("\n".join(job["script"]), {**combo, "MLPS_SIGN_KEY": "/builds/sign-key.pem"}, tmp_path)
            assert rc == 0 and argv, (name, combo)
            for a in map(parse, argv):
                (scans if a.cmd == "scan" else merges).append((name, combo, a))
        if isinstance(par, dict):
            assert job["tags"] == ["$ZONE"]  # each zone's job runs on that zone's runners
    _check_ci(scans, merges, keys, shards=4)


def _check_ci(scans, merges, keys: set[str], shards: int) -> None:
    """The scans are the shards 1..N of one part and one scan per zone; together they cover every target of
    the example config, so the merge has no gap; the merge takes every bundle and the result is verified."""
    split = [a for _, _, a in scans if a.shard]
    assert sorted(a.shard for a in split) == [(k, shards) for k in range(1, shards + 1)]
    assert len({tuple(a.only or ()) for a in split}) == 1  # the same part, split N ways
    zones = [a for _, _, a in scans if not a.shard]
    covered = set(split[0].only or keys) | {o for a in zones for o in a.only}
    assert covered == keys and all(set(a.only or ()) <= keys for _, _, a in scans)
    assert len({str(a.out) for _, _, a in scans}) == len(scans)
    assert all(a.sign_key and a.fail_on == "never" and a.no_history for _, _, a in scans)
    assert [a.cmd for _, _, a in merges] == ["merge", "verify"]
    m, v = merges[0][2], merges[1][2]
    assert len(m.bundles) >= 2 and not m.allow_partial and str(v.bundle) == str(m.out)


# --------------------------------------------------------------------------- AWS


def _template() -> dict:
    return yaml.safe_load((DEPLOY / "aws" / "mlps-scan-member-role.yaml").read_text())


def test_member_role_template_is_the_read_only_policy_with_an_external_id_trust():
    from cfnlint.api import ManualArgs, lint_file

    from mlps_scan.collectors.aws.target import Organization
    problems = lint_file(DEPLOY / "aws" / "mlps-scan-member-role.yaml", config=ManualArgs(regions=["cn-north-1", "us-east-1"]))
    assert not problems, [str(p) for p in problems]
    t = _template()
    role = t["Resources"]["MlpsScanRole"]
    assert role["Type"] == "AWS::IAM::Role"
    props = role["Properties"]
    (policy,) = props["Policies"]
    readonly = json.loads((DEPLOY / "aws" / "mlps-scan-readonly-policy.json").read_text())
    assert policy["PolicyDocument"] == readonly
    (trust,) = props["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Effect"] == "Allow" and trust["Action"] == "sts:AssumeRole"
    assert trust["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${ScanningAccountId}:root"}}
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}}
    params = t["Parameters"]
    org = Organization()
    assert props["RoleName"] == {"Ref": "RoleName"} and params["RoleName"]["Default"] == org.role_name
    assert params["ExternalId"].get("NoEcho") is True
    assert params["MaxSessionDuration"]["Default"] >= org.duration_seconds
    assert params["MaxSessionDuration"]["MaxValue"] == Organization.model_fields["duration_seconds"].metadata[1].le
    assert "AWS::IAM::Role" in {r["Type"] for r in t["Resources"].values()} and len(t["Resources"]) == 1


def test_scanner_policy_allows_the_organisation_listing_and_only_the_member_role():
    doc = json.loads((DEPLOY / "aws" / "mlps-scan-org-scanner-policy.json").read_text())
    acts = {a: st for st in doc["Statement"] for a in st["Action"]}
    calls = {"organizations:DescribeOrganization", "organizations:ListAccounts", "organizations:ListAccountsForParent",
             "organizations:ListOrganizationalUnitsForParent", "sts:GetCallerIdentity", "sts:AssumeRole"}
    assert set(acts) == calls
    assert acts["sts:AssumeRole"]["Resource"] == ["arn:*:iam::*:role/MlpsScanReadOnly"]
    assert all(a.split(":")[1].startswith(("List", "Describe", "Get")) for a in acts if a != "sts:AssumeRole")


@pytest.mark.aws
def test_member_role_template_deploys_on_the_moto_server(moto_lean):
    from fixtures.aws_org import MemberBed, create_org
    # us-east-1: moto's CloudFormation resolves AWS::Partition to `aws` in every region (a moto gap)
    region = "us-east-1"
    org = create_org(moto_lean, region, 1)
    member = MemberBed(moto_lean, org["members"][0], region)
    cfn = member.client("cloudformation", region)
    cfn.create_stack(StackName="mlps-scan-member-role", TemplateBody=(DEPLOY / "aws" / "mlps-scan-member-role.yaml").read_text(),
                     Capabilities=["CAPABILITY_NAMED_IAM"],
                     Parameters=[{"ParameterKey": "ScanningAccountId", "ParameterValue": org["management"]},
                                 {"ParameterKey": "ExternalId", "ParameterValue": "acme-mlps-2026"}])
    iam = member.client("iam", region)
    role = iam.get_role(RoleName="MlpsScanReadOnly")["Role"]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    (st,) = trust["Statement"]
    assert st["Principal"] == {"AWS": f"arn:aws:iam::{org['management']}:root"}
    assert st["Condition"] == {"StringEquals": {"sts:ExternalId": "acme-mlps-2026"}}
    doc = iam.get_role_policy(RoleName="MlpsScanReadOnly", PolicyName="MlpsScanReadOnly")["PolicyDocument"]
    if isinstance(doc, str):  # moto keeps a policy made by CloudFormation as Python's repr of it (a moto gap)
        import ast
        doc = ast.literal_eval(doc)
    assert doc == json.loads((DEPLOY / "aws" / "mlps-scan-readonly-policy.json").read_text())
    out = cfn.describe_stacks(StackName="mlps-scan-member-role")["Stacks"][0]["Outputs"]
    assert out[0]["OutputValue"] == role["Arn"] == f"arn:aws:iam::{org['members'][0]}:role/MlpsScanReadOnly"
