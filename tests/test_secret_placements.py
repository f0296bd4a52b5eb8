"""Secret placements: every shape a secret was found leaking in (env values named *_TOKEN, AWS tags and other
key/value pairs, CloudFormation parameters, `mysql -pSECRET`, webhook URLs, cookies, STRIPE_KEY, tokens known by
their format alone) planted in static files, in a `kubectl get -o json` dump, and as AWS tags on the moto
server (an IAM user tag DB_PASSWORD, an EC2 tag api_token). One scan of all of them must leave no planted value
in any output: evidence, inventory.json, findings.json, controls.json, assessment.json, scan.json, report.html,
bundle.zip (members and raw bytes), the SQLite history, the terminal, a `check --out` re-evaluation and the
questionnaire; the independent checker (shared/tools/check-bundle) agrees.

The scan writes its derived files without a second redaction pass (they are built from the evidence it
redacted as it recorded it): this corpus passing is what shows the pass is not needed, and on the built-in
sample a second pass would change nothing (test_derived_files_are_a_fixed_point_of_redaction)."""
from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import pytest
import yaml

from mlps_scan.redact import redact, redact_strings, redact_text

from conftest import check_bundle, run_cli

# every planted value is unique, so a hit names the placement that leaked
GH = "ghp_" + "Gh1tHubT0kenPlanted0000000000000000A1"
NPM = "npm_" + "Npm0TokenPlanted00000000000000000000B2"
SLACK_BOT = "xoxb-1234567890-0987654321-SlackBotPlanted1C3"
SLACK_HOOK_PATH = "T00PLANT0/B00PLANT0/SlackHookPlanted0000D4"
STRIPE = "sk_live_" + "StripeLivePlanted0000E5"
STRIPE_PLAIN = "StripeKeyGeneric9Planted7F6"
VAULT = "hvs.VaultTokenPlanted8G7"
GITHUB_PLAIN = "GithubTokenNoFormat5H8"
DB_TAG = "DbPasswordTagPlanted-J9"
API_TAG = "ApiTokenTagPlanted-K1"
ADMIN_KV = "AdminPasswordKvPlanted-L2"
CFN = "CfnDbPasswordPlanted-M3"
MYSQL = "MysqlDashPPlanted-N4"
COOKIE = "SessionIdCookiePlanted-P5"
CSRF = "CsrfTokenCookiePlanted-Q6"
AKIA = "AKIAPLANTED7R8S9T0U1"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGFudGVkIn0.JwtSignaturePlanted-V2"
PEM_BODY = "MIIEpQIBAAKCAQEAplantedPrivateKeyBodyW3"
IAM_TAG = "IamUserTagDbPasswordPlanted-X4"
EC2_TAG = "Ec2TagApiTokenPlanted-Y5"
PLANTED = [GH, NPM, SLACK_BOT, SLACK_HOOK_PATH, STRIPE, STRIPE_PLAIN, VAULT, GITHUB_PLAIN, DB_TAG, API_TAG, ADMIN_KV,
           CFN, MYSQL, COOKIE, CSRF, AKIA, JWT, PEM_BODY]
LIVE = [IAM_TAG, EC2_TAG]
HOOK = f"https://hooks.slack.com/services/{SLACK_HOOK_PATH}"
PEM = f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----"


def static_file() -> dict:
    env = {"GITHUB_TOKEN": GITHUB_PLAIN, "NPM_TOKEN": NPM, "SLACK_BOT_TOKEN": SLACK_BOT, "VAULT_TOKEN": VAULT,
           "STRIPE_KEY": STRIPE_PLAIN, "LOG_LEVEL": "info"}
    return {"assets": [{"type": "static.app", "id": "app-1", "name": "shop", "attributes": {
        "env": env,
        "env_list": [{"name": k, "value": v} for k, v in env.items()],
        "dotenv": "".join(f"{k}={v}\n" for k, v in env.items()) + f"export STRIPE_KEY={STRIPE}\n",
        "tags": [{"Key": "DB_PASSWORD", "Value": DB_TAG}, {"Key": "api_token", "Value": API_TAG},
                 {"Key": "Name", "Value": "shop-web"}],
        "settings": [{"key": "admin_password", "value": ADMIN_KV}],
        "stack": {"StackName": "shop", "Parameters": [{"ParameterKey": "DBPassword", "ParameterValue": CFN},
                                                      {"ParameterKey": "InstanceType", "ParameterValue": "t3.small"}]},
        "backup_cron": f"0 3 * * * mysqldump -h db -u root -p{MYSQL} shop > /backup/shop.sql",
        "alerts": {"slack": HOOK},
        "request_log": f"GET /cart HTTP/1.1\nHost: shop\nCookie: sessionid={COOKIE}; csrftoken={CSRF}\n",
        "notes": f"found in a CI log: {GH} {STRIPE} {AKIA} {JWT}\n{PEM}\n",
    }}]}


def kubectl_dump() -> dict:
    env = [{"name": "GITHUB_TOKEN", "value": GH}, {"name": "SLACK_BOT_TOKEN", "value": SLACK_BOT},
           {"name": "VAULT_TOKEN", "value": VAULT}, {"name": "STRIPE_KEY", "value": STRIPE_PLAIN},
           {"name": "LOG_LEVEL", "value": "info"}]
    container = {"name": "app", "image": "registry.example.cn/shop/app:1.0", "env": env,
                 "command": ["sh", "-c", f"mysql -h db -u root -p{MYSQL} -e 'select 1'"],
                 "args": ["--stripe-key", STRIPE, "--webhook", HOOK]}
    pod_spec = {"containers": [container], "serviceAccountName": "shop"}
    meta = {"namespace": "shop", "annotations": {"notes": f"Cookie: sessionid={COOKIE}", "ci": f"{NPM} {AKIA}"}}
    return {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "uid": "ns-shop"}},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {**meta, "name": "web", "uid": "dep-web"},
         "spec": {"replicas": 1, "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec}}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {**meta, "name": "debug", "uid": "pod-debug"}, "spec": pod_spec},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "env", "namespace": "shop"},
         "data": {".env": f"NPM_TOKEN={NPM}\nGITHUB_TOKEN={GITHUB_PLAIN}\n", "hook": HOOK, "jwt": JWT, "key.pem": PEM}},
        {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": {"name": "db", "namespace": "shop"},
         "stringData": {"password": DB_TAG}},
    ]}


def seed_aws(bed) -> None:
    iam, ec2 = bed.client("iam"), bed.client("ec2")
    iam.create_user(UserName="deployer", Tags=[{"Key": "DB_PASSWORD", "Value": IAM_TAG}, {"Key": "team", "Value": "shop"}])
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    sub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    ec2.run_instances(ImageId="ami-0123456789abcdef0", MinCount=1, MaxCount=1, SubnetId=sub, TagSpecifications=[
        {"ResourceType": "instance", "Tags": [{"Key": "api_token", "Value": EC2_TAG}, {"Key": "Name", "Value": "web"}]}])


def _outputs(out: Path) -> dict[str, bytes]:
    files = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with zipfile.ZipFile(out / "bundle.zip") as z:
        for n in z.namelist():
            files[f"bundle.zip:{n}"] = z.read(n)
    return files


def _assert_clean(where: str, data: bytes, planted: list[str]) -> None:
    for s in planted:
        assert s.encode() not in data, f"{s[:24]}... leaked into {where}"


@pytest.mark.aws
def test_planted_secrets_reach_no_output(moto, tmp_path):
    seed_aws(moto)
    (tmp_path / "app.yaml").write_text(yaml.safe_dump(static_file()))
    (tmp_path / "dump.json").write_text(json.dumps(kubectl_dump(), indent=4))
    cfg = tmp_path / "scan.yaml"
    cfg.write_text(yaml.safe_dump({"system": {"name": "Placements", "level": 3},
                                   "static": [{"name": "app", "path": "app.yaml"}, {"name": "cluster", "path": "dump.json"}],
                                   "aws": [{"name": "acct", "regions": ["cn-north-1"]}]}))
    history = tmp_path / "history.sqlite3"
    out = tmp_path / "out"
    r = run_cli("scan", "--config", str(cfg), "--out", str(out), env={"MLPS_SCAN_HISTORY": str(history)})
    assert r.returncode in (0, 1, 3), r.stderr
    assert (out / "manifest.json").exists() and history.exists(), r.stderr + r.stdout

    # the placements were read: the assets and the records are there, values masked
    inv = json.loads((out / "inventory.json").read_text())
    app = next(a for a in inv["assets"] if a["id"] == "app-1")["attributes"]
    assert app["env"]["LOG_LEVEL"] == "info" and app["env"]["NPM_TOKEN"] == "[REDACTED]"
    assert {"Key": "Name", "Value": "shop-web"} in app["tags"] and {"Key": "DB_PASSWORD", "Value": "[REDACTED]"} in app["tags"]
    assert app["stack"]["Parameters"][1]["ParameterValue"] == "t3.small"
    assert "hooks.slack.com/services/[REDACTED]" in app["alerts"]["slack"] and "-p[REDACTED] shop" in app["backup_cron"]
    assert any(a["type"] == "k8s.workload" for a in inv["assets"]) and any(a["type"] == "aws.iam.user" for a in inv["assets"])
    evidence = "".join(p.read_text() for p in (out / "evidence").iterdir())
    assert "deployer" in evidence and "api_token" in evidence and "DB_PASSWORD" in evidence

    files = _outputs(out)
    for name in ("evidence/", "inventory.json", "findings.json", "controls.json", "report.html", "scan.json"):
        assert any(n.startswith(name) for n in files), name
    for name, data in files.items():
        _assert_clean(name, data, PLANTED + LIVE)
    _assert_clean("bundle.zip (raw)", (out / "bundle.zip").read_bytes(), PLANTED + LIVE)
    _assert_clean("history database", history.read_bytes(), PLANTED + LIVE)
    with sqlite3.connect(history) as db:
        rows = repr(db.execute("SELECT * FROM scans").fetchall())
    assert "Placements" in rows
    _assert_clean("history rows", rows.encode(), PLANTED + LIVE)
    _assert_clean("terminal", (r.stdout + r.stderr).encode(), PLANTED + LIVE)

    # a re-evaluation and the questionnaire read the bundle: still nothing
    r2 = run_cli("check", str(out), "--out", str(tmp_path / "checked"), "--quiet")
    assert r2.returncode in (0, 1, 3), r2.stderr
    for name, data in _outputs(tmp_path / "checked").items():
        _assert_clean(f"check --out: {name}", data, PLANTED + LIVE)
    q = tmp_path / "q.yaml"
    r3 = run_cli("questionnaire", str(out), "-o", str(q))
    assert r3.returncode == 0, r3.stderr
    _assert_clean("questionnaire", q.read_bytes(), PLANTED + LIVE)

    for target in (out, out / "bundle.zip"):
        res = check_bundle(target)
        assert res.returncode == 0, res.stdout


SHAPES = {
    "GITHUB_TOKEN=" + GITHUB_PLAIN: GITHUB_PLAIN, "export NPM_TOKEN=" + NPM: NPM, "SLACK_BOT_TOKEN: " + SLACK_BOT: SLACK_BOT,
    "VAULT_TOKEN='" + VAULT + "'": VAULT, "STRIPE_KEY=" + STRIPE_PLAIN: STRIPE_PLAIN, "key " + STRIPE: STRIPE,
    f"mysql -uroot -p{MYSQL} shop": MYSQL, f"mariadb-dump -p'{MYSQL}'": MYSQL, f"sshpass -p {MYSQL} ssh x": MYSQL,
    HOOK: SLACK_HOOK_PATH, f"Cookie: sessionid={COOKIE}; csrftoken={CSRF}": COOKIE, f"sessionid={COOKIE}": COOKIE,
    f"csrftoken={CSRF}": CSRF, f"log {GH} end": GH, f"({SLACK_BOT})": SLACK_BOT, f"\"{NPM}\"": NPM, AKIA: "PLANTED7R8S9",
    "xoxp-" + "1" * 12 + "-abcdefghijkl": "1" * 12 + "-abcdefghijkl", "https://discord.com/api/webhooks/123/abcDEF_ghi": "abcDEF_ghi",
    "glpat-" + "x1" * 10: "x1" * 10, "AIza" + "A1b2" * 8 + "xyz": "A1b2" * 8, "SG." + "a" * 22 + "." + "b" * 43: "b" * 43,
}


def test_each_shape_is_redacted_in_text_and_in_structures():
    for text, secret in SHAPES.items():
        out, n = redact_text(text)
        assert secret not in out and n >= 1, (text, out)
        # inside a structure, under a name that says nothing
        got, _ = redact({"note": text, "list": [text]})
        assert secret not in json.dumps(got), text
    pairs = [{"Key": "DB_PASSWORD", "Value": DB_TAG}, {"key": "admin_password", "value": ADMIN_KV},
             {"ParameterKey": "DBPassword", "ParameterValue": CFN}, {"name": "GITHUB_TOKEN", "value": GITHUB_PLAIN},
             {"Name": "api_token", "Value": API_TAG}, {"ParameterName": "master_password", "ParameterValue": 12345678},
             {"name": "STRIPE_KEY", "value": STRIPE_PLAIN}]
    got, n = redact(pairs)
    assert n == len(pairs) and all(p.get("Value", p.get("value", p.get("ParameterValue"))) == "[REDACTED]" for p in got)
    assert got[0]["Key"] == "DB_PASSWORD"  # the name stays: it says what was there
    # what must stay readable: names that only hint, with plain values; pagination and idempotency tokens
    keep = {"sort_key": "name", "kms_key": "arn:aws:kms:cn-north-1:123456789012:key/1", "NextToken": "abc",
            "ClientToken": "x-1", "token_expiry": "3600", "public_key": "ssh-ed25519 AAAAC3Nza", "Key": "Name",
            "tags": [{"Key": "Name", "Value": "web"}, {"Key": "owner", "Value": "shop-team"}],
            "env": [{"name": "SORT_KEY", "value": "created_at"}, {"name": "TOKEN_TTL", "value": "3600"}]}
    assert redact(keep) == (keep, 0)
    for text in ("mysql -P 3306 -p shop", "ssh -p22 host", "npm_config_cache=/tmp/npm", "the token expired",
                 "sort_key: name", "Set-Cookie policy is strict", "docker-pullable://r:5000/app@sha256:" + "ab" * 32):
        assert redact_text(text) == (text, 0), text


def test_derived_files_are_a_fixed_point_of_redaction(sample_bundle):
    """A scan writes inventory, findings, controls, assessment, scan.json and the report from its redacted
    evidence without a second pass; on the built-in sample (hosts, AWS, Kubernetes, static files) such a
    pass would change nothing."""
    for name in ("inventory.json", "findings.json", "controls.json", "assessment.json", "scan.json"):
        p = sample_bundle / name
        if not p.exists():
            continue
        doc = json.loads(p.read_text())
        again, n = redact_strings(doc)
        assert n == 0 and again == doc, name
    report = (sample_bundle / "report.html").read_text()
    assert redact_text(report) == (report, 0)
