"""Assets and coverage from recorded AWS evidence alone (live scans and offline replay share this code).

Every list call expected for a region is looked up; a missing or failed one becomes an `error`/`denied`
coverage record for the asset types it would have produced, a `not_available` record when the service is
not offered there. A failed per-resource call becomes `asset.errors[<attribute>]`.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Iterable

from mlps_scan.models import EvidenceRecord, EvidenceStatus
from mlps_scan.plugins import CollectSession

from .fetch import parse_credential_report
from .partition import arn

ANY4 = "0.0.0.0/0"
ANY6 = "::/0"


def _canon(params: Any) -> str:
    return json.dumps(params or {}, sort_keys=True, separators=(",", ":"))


class Index:
    def __init__(self, records: Iterable[EvidenceRecord]):
        self.by: dict[tuple[str, str | None, str], EvidenceRecord] = {}
        self.by_source: dict[str, list[EvidenceRecord]] = {}
        for r in records:
            req = r.request or {}
            self.by[(r.source, req.get("region"), _canon(req.get("params")))] = r
            self.by_source.setdefault(r.source, []).append(r)

    def get(self, source: str, region: str | None, params: dict | None = None) -> EvidenceRecord | None:
        return self.by.get((source, region, _canon(params)))

    def first(self, source: str) -> EvidenceRecord | None:
        recs = self.by_source.get(source) or []
        return recs[0] if recs else None


def _ok(rec: EvidenceRecord | None) -> bool:
    return rec is not None and rec.status == EvidenceStatus.ok


def _why(rec: EvidenceRecord | None, source: str) -> str:
    if rec is None:
        return f"{source}: not collected"
    return f"{rec.source}: {rec.error or rec.status.value}"


def _absent(rec: EvidenceRecord) -> bool:
    return isinstance(rec.answer, dict) and set(rec.answer) == {"Absent"}


def _days(ts: Any, now: datetime) -> int | None:
    if ts in (None, "", "N/A", "no_information", "not_supported"):
        return None
    try:
        t = datetime.fromisoformat(str(ts).replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return max(0, (now - t).days)


def _tags(tag_list: Any) -> dict[str, str]:
    if isinstance(tag_list, dict):
        return {str(k): str(v) for k, v in tag_list.items()}
    return {str(t.get("Key")): str(t.get("Value", "")) for t in (tag_list or []) if isinstance(t, dict)}


def _name(tags: dict, default: str) -> str:
    return tags.get("Name") or default


def _statements(doc: Any) -> list[dict]:
    """The statements of an IAM/bucket policy document given as a dict, JSON text or URL-encoded JSON."""
    if isinstance(doc, str):
        from urllib.parse import unquote
        for text in (doc, unquote(doc)):
            try:
                doc = json.loads(text)
                break
            except ValueError:
                continue
        else:
            return []
    if not isinstance(doc, dict):
        return []
    stmts = doc.get("Statement", [])
    stmts = [stmts] if isinstance(stmts, dict) else stmts
    return [st for st in stmts if isinstance(st, dict)] if isinstance(stmts, list) else []


def _as_list(v: Any) -> list:
    return v if isinstance(v, list) else ([] if v is None else [v])


def _policy_admin(doc: Any) -> bool:
    """A policy document that allows every action on every resource (`*:*`)."""
    for st in _statements(doc):
        if st.get("Effect") != "Allow" or "NotAction" in st or "Condition" in st:
            continue
        acts, res = _as_list(st.get("Action")), _as_list(st.get("Resource"))
        if ("*" in acts or "*:*" in acts) and "*" in res:
            return True
    return False


def _policy_tls_only(doc: Any) -> bool:
    """A bucket policy that denies requests without TLS (aws:SecureTransport = false)."""
    for st in _statements(doc):
        if st.get("Effect") != "Deny" or not any(a in ("*", "s3:*") for a in _as_list(st.get("Action"))):
            continue
        for op, kv in (st.get("Condition") or {}).items():
            if op.lower().startswith("bool") and isinstance(kv, dict):
                for k, v in kv.items():
                    if k.lower() == "aws:securetransport" and any(str(x).lower() == "false" for x in _as_list(v)):
                        return True
    return False


# Condition keys whose fixed (wildcard-free) values tie an `Allow` for Principal "*" to known callers, per
# "The meaning of public" (Amazon S3 User Guide, Block Public Access): such a statement is not public.
_RESTRICTING_KEYS = {
    "aws:sourcearn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceowner", "aws:sourceaccount",
    "aws:principalorgid", "aws:principalaccount", "aws:principalarn", "aws:userid",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
}
# positive operators only: a negated operator (StringNotEquals, NotIpAddress...) or ...IfExists (absent key
# passes) or ForAllValues: (an empty set passes) lets arbitrary callers through
_RESTRICTING_OPS = {"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"}


def _fixed(values: list) -> bool:
    return bool(values) and all(isinstance(v, str) and v and "*" not in v and "?" not in v and "${" not in v
                                for v in values)


def _userid_fixed(values: list) -> bool:
    """aws:userid values are fixed, or `<role id>:*` (any session of one role)."""
    return bool(values) and all(isinstance(v, str) and _fixed([v[:-2] if v.endswith(":*") else v]) for v in values)


def _cidr_restricts(values: list) -> bool:
    """aws:SourceIp limits callers unless a range is broader than /8 (IPv4) or /32 (IPv6), private ranges
    (RFC 1918, IPv6 unique-local fc00::/7) excepted: that is how S3 judges 'public'."""
    import ipaddress
    if not values:
        return False
    ula = ipaddress.ip_network("fc00::/7")
    for v in values:
        try:
            net = ipaddress.ip_network(str(v), strict=False)
        except ValueError:
            return False
        if net.version == 4 and net.prefixlen < 8:
            return False
        if net.version == 6 and net.prefixlen < 32 and not net.subnet_of(ula):
            return False
    return True


def _condition_restricts(cond: Any) -> bool:
    """True when one condition of the statement ties it to fixed callers (conditions are ANDed)."""
    if not isinstance(cond, dict):
        return False
    for op, kv in cond.items():
        if not isinstance(kv, dict):
            continue
        o = str(op).lower()
        if o.startswith("forallvalues:") or o.endswith("ifexists"):
            continue
        o = o.split(":", 1)[1] if o.startswith("foranyvalue:") else o
        for key, val in kv.items():
            k, vals = str(key).lower(), _as_list(val)
            if k == "aws:sourceip":
                if o == "ipaddress" and _cidr_restricts(vals):
                    return True
            elif k == "aws:userid":
                if o in _RESTRICTING_OPS and _userid_fixed(vals):
                    return True
            elif k in _RESTRICTING_KEYS and o in _RESTRICTING_OPS and _fixed(vals):
                return True
    return False


def _principal_public(st: dict) -> bool:
    """Principal "*" / {"AWS": "*"} (or an ARN with a wildcard), or any NotPrincipal in an Allow."""
    if "NotPrincipal" in st:
        return True
    p = st.get("Principal")
    if p == "*":
        return True
    if isinstance(p, dict):
        return any(isinstance(x, str) and "*" in x for x in _as_list(p.get("AWS")))
    return False


def _policy_public(doc: Any) -> bool:
    """A bucket policy S3 would call public: an Allow to everyone that no condition ties to fixed callers
    (a condition on aws:SecureTransport or s3:prefix, say, restricts *how*, not *who*). Deny statements
    never make a policy public."""
    for st in _statements(doc):
        if st.get("Effect") != "Allow" or not _principal_public(st):
            continue
        if not _condition_restricts(st.get("Condition")):
            return True
    return False


_UNKNOWN = object()  # a setting that could not be read (distinct from None: read, and not set)


def _public_via(acl_public: bool, policy_public: bool, bucket_pab: dict | None, account_pab: Any) -> list[str]:
    """How a bucket is public after Block Public Access. The bucket's and the account's settings both apply
    (the stricter wins). Only IgnorePublicAcls neutralises existing public ACLs (BlockPublicAcls refuses new
    ones) and only RestrictPublicBuckets neutralises an existing public policy (BlockPublicPolicy refuses
    new ones). An unreadable account setting (`_UNKNOWN`) neutralises nothing here: the caller decides."""
    def on(flag: str) -> bool:
        return bool((bucket_pab or {}).get(flag)) or (isinstance(account_pab, dict) and bool(account_pab.get(flag)))
    via = []
    if acl_public and not on("IgnorePublicAcls"):
        via.append("ACL grant to AllUsers/AuthenticatedUsers (IgnorePublicAcls off)")
    if policy_public and not on("RestrictPublicBuckets"):
        via.append("bucket policy allowing everyone (RestrictPublicBuckets off)")
    return via


_PUBLIC_GRANTEES = ("http://acs.amazonaws.com/groups/global/AllUsers",
                    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")


def _ports(perm: dict) -> tuple[str, int | None, int | None]:
    proto = str(perm.get("IpProtocol", "-1"))
    if proto == "-1":
        return "all", 0, 65535
    return proto, perm.get("FromPort"), perm.get("ToPort")


def _perms(perms: list[dict]) -> list[dict]:
    out = []
    for p in perms or []:
        proto, lo, hi = _ports(p)
        cidrs = [r.get("CidrIp") for r in p.get("IpRanges", []) if r.get("CidrIp")]
        cidrs += [r.get("CidrIpv6") for r in p.get("Ipv6Ranges", []) if r.get("CidrIpv6")]
        groups = [g.get("GroupId") for g in p.get("UserIdGroupPairs", []) if g.get("GroupId")]
        plists = [g.get("PrefixListId") for g in p.get("PrefixListIds", []) if g.get("PrefixListId")]
        out.append({"protocol": proto, "from_port": lo, "to_port": hi, "cidrs": cidrs, "groups": groups,
                    "prefix_lists": plists})
    return out


def derive(records: list[EvidenceRecord], s: CollectSession) -> None:
    recs = [r for r in records if r.collector == "aws"]
    if not recs:
        return
    D(recs, s).run()


class D:
    def __init__(self, recs: list[EvidenceRecord], s: CollectSession):
        self.s = s
        self.ix = Index(recs)
        self.tname = recs[0].target
        scope_rec = self.ix.first("mlps-scan:ScanScope")
        ident = self.ix.first("sts:GetCallerIdentity")
        self.scope_rec = scope_rec
        if scope_rec is None or not _ok(scope_rec):
            self.part = "aws"
            self.acct = (ident.answer or {}).get("Account", "unknown") if _ok(ident) else "unknown"
            self.regions: list[str] = []
            self.greg = None
        else:
            a = scope_rec.answer
            self.part, self.acct, self.regions, self.greg = a["partition"], a["account_id"], a["regions"], a["global_region"]
        self.now = max(r.collected_at for r in recs)
        self.gscope = f"aws/{self.tname}/{self.acct}"

    def rscope(self, region: str) -> str:
        return f"{self.gscope}/{region}"

    def asset(self, type_: str, id_: str, scope: str, *, name=None, attrs=None, errors=None, ev=()):
        return self.s.asset(type_, id_, scope=scope, name=name, attributes=attrs or {}, errors=errors or {},
                            evidence=[e for e in ev if e])

    def listed(self, types: Iterable[str], scope: str, source: str, region: str | None, params=None):
        """Coverage of the asset types a list call answers; returns its record when it succeeded."""
        rec = self.ix.get(source, region, params or {})
        for t in types:
            if rec is None:
                self.s.coverage(t, scope, EvidenceStatus.error, f"{source} in {region or 'global'}: not collected")
            elif rec.status == EvidenceStatus.ok:
                self.s.coverage(t, scope, EvidenceStatus.ok, None, [rec.id])
            else:
                self.s.coverage(t, scope, rec.status, f"{source}: {rec.error or rec.status.value}", [rec.id])
        return rec if _ok(rec) else None

    # ------------------------------------------------------------------

    def run(self) -> None:
        if self.scope_rec is None or not _ok(self.scope_rec):
            ident = self.ix.first("sts:GetCallerIdentity")
            self.s.coverage("aws.*", self.gscope, EvidenceStatus.error,
                            f"account scope not established: {_why(ident, 'sts:GetCallerIdentity')}",
                            [ident.id] if ident else [])
            return
        for src, recs in self.ix.by_source.items():
            if src.startswith("mlps-scan:task-failed"):
                for r in recs:
                    self.s.coverage("aws.*", self.gscope, EvidenceStatus.error, f"collector task failed: {r.error}", [r.id])
        self.iam()
        self.s3()
        for r in self.regions:
            self.region(r)

    # ------------------------------------------------------------------ IAM and the account

    def iam(self) -> None:
        g, sc, now = self.greg, self.gscope, self.now
        rep = self.ix.get("iam:GetCredentialReport", g)
        auth = self.listed(["aws.iam.user", "aws.iam.role", "aws.iam.group", "aws.iam.policy"], sc,
                           "iam:GetAccountAuthorizationDetails", g,
                           {"Filter": ["User", "Role", "Group", "LocalManagedPolicy"]})
        summ = self.ix.get("iam:GetAccountSummary", g)
        pol = self.ix.get("iam:GetAccountPasswordPolicy", g)
        vmfa = self.ix.get("iam:ListVirtualMFADevices", g)
        scope_ev = self.scope_rec.id

        # account
        attrs: dict[str, Any] = {"account_id": self.acct, "partition": self.part, "regions": self.regions}
        errs: dict[str, str] = {}
        if _ok(summ):
            m = (summ.answer or {}).get("SummaryMap", {})
            attrs["root_mfa"] = bool(m.get("AccountMFAEnabled"))
            attrs["root_access_keys"] = int(m.get("AccountAccessKeysPresent", 0))
        else:
            errs["root_mfa"] = errs["root_access_keys"] = _why(summ, "iam:GetAccountSummary")
        if _ok(pol):
            attrs["password_policy"] = None if _absent(pol) else (pol.answer or {}).get("PasswordPolicy")
        else:
            errs["password_policy"] = _why(pol, "iam:GetAccountPasswordPolicy")
        rows = parse_credential_report(rep.answer) if _ok(rep) else []
        root = next((r for r in rows if r.get("user") == "<root_account>"), None)
        if root is not None:
            attrs["root_password_last_used_days"] = _days(root.get("password_last_used"), now)
        if _ok(vmfa):
            attrs["virtual_mfa_devices"] = len((vmfa.answer or {}).get("VirtualMFADevices", []))
        pab_rec, pab = self.account_public_access_block()
        if pab is _UNKNOWN:
            errs["public_access_block"] = _why(pab_rec, "s3control:GetPublicAccessBlock")
        else:
            attrs["public_access_block"] = pab
        self.asset("aws.account", arn(self.part, "iam", "", self.acct, "root"), sc, name=self.acct, attrs=attrs,
                   errors=errs, ev=[scope_ev, summ.id if summ else None, pol.id if pol else None,
                                    rep.id if rep else None, pab_rec.id if pab_rec else None])
        self.s.coverage("aws.account", sc, EvidenceStatus.ok, None, [scope_ev])
        for region in self.regions:
            self.s.coverage("aws.region", self.rscope(region), EvidenceStatus.ok, None, [scope_ev])

        if auth is None:
            return
        a = auth.answer or {}
        local_admin = {p["Arn"]: _policy_admin(_default_doc(p)) for p in a.get("Policies", [])}
        aws_admin = {arn(self.part, "iam", "", "aws", "policy/AdministratorAccess")}

        def is_admin_attached(arns: list[str]) -> bool:
            return any(x in aws_admin or local_admin.get(x) for x in arns)

        groups_admin: dict[str, bool] = {}
        for gd in a.get("GroupDetailList", []):
            att = [p["PolicyArn"] for p in gd.get("AttachedManagedPolicies", [])]
            inline = gd.get("GroupPolicyList", [])
            adm = is_admin_attached(att) or any(_policy_admin(p.get("PolicyDocument")) for p in inline)
            groups_admin[gd["GroupName"]] = adm
            self.asset("aws.iam.group", gd["Arn"], sc, name=gd["GroupName"], ev=[auth.id],
                       attrs={"arn": gd["Arn"], "attached_policies": att, "inline_policies": [p["PolicyName"] for p in inline],
                              "admin": adm})
        for rd in a.get("RoleDetailList", []):
            att = [p["PolicyArn"] for p in rd.get("AttachedManagedPolicies", [])]
            inline = rd.get("RolePolicyList", [])
            adm = is_admin_attached(att) or any(_policy_admin(p.get("PolicyDocument")) for p in inline)
            path = rd.get("Path", "/")
            self.asset("aws.iam.role", rd["Arn"], sc, name=rd["RoleName"], ev=[auth.id],
                       attrs={"arn": rd["Arn"], "attached_policies": att, "inline_policies": [p["PolicyName"] for p in inline],
                              "admin": adm, "path": path, "service_linked": path.startswith("/aws-service-role/"),
                              "tags": _tags(rd.get("Tags"))})
        for p in a.get("Policies", []):
            self.asset("aws.iam.policy", p["Arn"], sc, name=p["PolicyName"], ev=[auth.id],
                       attrs={"arn": p["Arn"], "attached_policies": [], "admin": local_admin[p["Arn"]],
                              "attachment_count": p.get("AttachmentCount", 0)})

        by_user = {r.get("user"): r for r in rows}
        for ud in a.get("UserDetailList", []):
            uname = ud["UserName"]
            att = [p["PolicyArn"] for p in ud.get("AttachedManagedPolicies", [])]
            inline = ud.get("UserPolicyList", [])
            groups = ud.get("GroupList", [])
            direct = is_admin_attached(att) or any(_policy_admin(p.get("PolicyDocument")) for p in inline)
            uattrs: dict[str, Any] = {
                "arn": ud["Arn"], "attached_policies": att, "inline_policies": [p["PolicyName"] for p in inline],
                "groups": groups, "admin": direct or any(groups_admin.get(x) for x in groups), "admin_direct": direct,
                "created_days": _days(ud.get("CreateDate"), now), "tags": _tags(ud.get("Tags")),
            }
            uerrs: dict[str, str] = {}
            ev = [auth.id]
            row = by_user.get(uname)
            if row is None:
                for k in ("console_access", "mfa_active", "password_last_used_days", "access_keys"):
                    uerrs[k] = _why(rep, "iam:GetCredentialReport") if not _ok(rep) else "user not in the credential report"
            else:
                ev.append(rep.id)
                uattrs["console_access"] = row.get("password_enabled") == "true"
                uattrs["mfa_active"] = row.get("mfa_active") == "true"
                uattrs["password_last_used_days"] = _days(row.get("password_last_used"), now)
                uattrs["password_last_changed_days"] = _days(row.get("password_last_changed"), now)
                keys = []
                lak = self.ix.get("iam:ListAccessKeys", g, {"UserName": uname})
                meta = (lak.answer or {}).get("AccessKeyMetadata", []) if _ok(lak) else []
                if lak is not None:
                    ev.append(lak.id)
                for i in (1, 2):
                    rot = row.get(f"access_key_{i}_last_rotated", "N/A")
                    if rot in ("N/A", "", None):
                        continue
                    m = meta[i - 1] if len(meta) >= i else {}
                    keys.append({"id": m.get("AccessKeyId", f"key{i}"),
                                 "active": row.get(f"access_key_{i}_active") == "true",
                                 "age_days": _days(rot, now),
                                 "last_used_days": _days(row.get(f"access_key_{i}_last_used_date"), now)})
                uattrs["access_keys"] = keys
                if keys and not _ok(lak):
                    uerrs["access_key_ids"] = _why(lak, "iam:ListAccessKeys")
            self.asset("aws.iam.user", ud["Arn"], sc, name=uname, attrs=uattrs, errors=uerrs, ev=ev)

    # ------------------------------------------------------------------ S3

    def account_public_access_block(self) -> tuple[EvidenceRecord | None, Any]:
        """(record, the account's PublicAccessBlockConfiguration, None when none is set, or _UNKNOWN)."""
        rec = self.ix.get("s3control:GetPublicAccessBlock", self.greg, {"AccountId": self.acct})
        if not _ok(rec):
            return rec, _UNKNOWN
        return rec, None if _absent(rec) else (rec.answer or {}).get("PublicAccessBlockConfiguration")

    def s3(self) -> None:
        g, sc = self.greg, self.gscope
        lst = self.listed(["aws.s3.bucket"], sc, "s3:ListBuckets", g)
        if lst is None:
            return
        trail_buckets = set()
        for rec in self.ix.by_source.get("cloudtrail:DescribeTrails", []):
            if _ok(rec):
                trail_buckets |= {t.get("S3BucketName") for t in (rec.answer or {}).get("trailList", [])}
        logging_targets = set()
        for rec in self.ix.by_source.get("s3:GetBucketLogging", []):
            if _ok(rec):
                tgt = ((rec.answer or {}).get("LoggingEnabled") or {}).get("TargetBucket")
                if tgt:
                    logging_targets.add(tgt)
        acct_pab_rec, acct_pab = self.account_public_access_block()
        for b in (lst.answer or {}).get("Buckets", []):
            name = b["Name"]
            region = b.get("BucketRegion")
            ev = [lst.id]
            errs: dict[str, str] = {}
            if not region:
                loc = self.ix.get("s3:GetBucketLocation", g, {"Bucket": name})
                if _ok(loc):
                    from .fetch import bucket_region
                    region = bucket_region(loc.answer, self.part)
                    ev.append(loc.id)
                else:
                    errs["region"] = _why(loc, "s3:GetBucketLocation")
            p = {"Bucket": name}
            got = {}
            for src in ("GetBucketEncryption", "GetPublicAccessBlock", "GetBucketLogging", "GetBucketVersioning",
                        "GetBucketPolicy", "GetBucketAcl"):
                rec = self.ix.get(f"s3:{src}", region, p) if region else None
                got[src] = rec
                if rec is not None:
                    ev.append(rec.id)
            attrs: dict[str, Any] = {"name": name, "region": region,
                                     "log_bucket": name in trail_buckets or name in logging_targets,
                                     "cloudtrail_bucket": name in trail_buckets}

            def put(attr: str, src: str, fn):
                rec = got[src]
                if _ok(rec):
                    attrs[attr] = fn(None if _absent(rec) else rec.answer)
                else:
                    errs[attr] = _why(rec, f"s3:{src}")

            put("encryption", "GetBucketEncryption", lambda a: _sse(a))
            put("public_access_block", "GetPublicAccessBlock",
                lambda a: (a or {}).get("PublicAccessBlockConfiguration") if a else None)
            put("logging", "GetBucketLogging", lambda a: ((a or {}).get("LoggingEnabled") or {}).get("TargetBucket"))
            put("versioning", "GetBucketVersioning", lambda a: (a or {}).get("Status") or "Disabled")
            put("mfa_delete", "GetBucketVersioning", lambda a: (a or {}).get("MFADelete") == "Enabled")
            put("tls_only", "GetBucketPolicy", lambda a: _policy_tls_only((a or {}).get("Policy")) if a else False)
            put("policy_public", "GetBucketPolicy", lambda a: _policy_public((a or {}).get("Policy")) if a else False)
            put("acl_public", "GetBucketAcl", lambda a: any(
                (gr.get("Grantee") or {}).get("URI") in _PUBLIC_GRANTEES for gr in (a or {}).get("Grants", [])))
            if acct_pab_rec is not None:
                ev.append(acct_pab_rec.id)
            if not any(k in errs for k in ("public_access_block", "policy_public", "acl_public")):
                via = _public_via(attrs["acl_public"], attrs["policy_public"], attrs["public_access_block"], acct_pab)
                if via and acct_pab is _UNKNOWN:
                    # only the account-level block could still neutralise what the bucket exposes
                    errs["public"] = ("public " + " and ".join(via) + " unless the account-level public access "
                                      "block neutralises it: " + _why(acct_pab_rec, "s3control:GetPublicAccessBlock"))
                else:
                    attrs["public"] = bool(via)
                    attrs["public_via"] = via
            else:
                errs["public"] = "; ".join(errs[k] for k in ("public_access_block", "policy_public", "acl_public") if k in errs)
            self.asset("aws.s3.bucket", arn(self.part, "s3", "", "", name), sc, name=name, attrs=attrs, errors=errs, ev=ev)

    # ------------------------------------------------------------------ regional

    def region(self, r: str) -> None:
        sc, P, A = self.rscope(r), self.part, self.acct
        ev = lambda *xs: [x.id for x in xs if x is not None]  # noqa: E731

        # EC2 network
        vpcs = self.listed(["aws.ec2.vpc"], sc, "ec2:DescribeVpcs", r)
        fl = self.ix.get("ec2:DescribeFlowLogs", r)
        subnets = self.listed(["aws.ec2.subnet"], sc, "ec2:DescribeSubnets", r)
        rts = self.listed(["aws.ec2.route_table"], sc, "ec2:DescribeRouteTables", r)
        igws = self.listed(["aws.ec2.internet_gateway"], sc, "ec2:DescribeInternetGateways", r)
        sgs = self.listed(["aws.ec2.security_group"], sc, "ec2:DescribeSecurityGroups", r)
        nacls = self.listed(["aws.ec2.network_acl"], sc, "ec2:DescribeNetworkAcls", r)
        insts = self.listed(["aws.ec2.instance"], sc, "ec2:DescribeInstances", r)
        enis = self.ix.get("ec2:DescribeNetworkInterfaces", r)
        vols = self.listed(["aws.ec2.volume"], sc, "ec2:DescribeVolumes", r)
        snaps = self.listed(["aws.ec2.snapshot"], sc, "ec2:DescribeSnapshots", r, {"OwnerIds": ["self"]})
        pub_snaps = self.ix.get("ec2:DescribeSnapshots", r, {"OwnerIds": ["self"], "RestorableByUserIds": ["all"]})
        ebs_def = self.ix.get("ec2:GetEbsEncryptionByDefault", r)

        flow_vpcs = {f.get("ResourceId") for f in (fl.answer or {}).get("FlowLogs", [])
                     if f.get("FlowLogStatus", "ACTIVE") == "ACTIVE"} if _ok(fl) else set()
        for v in (vpcs.answer or {}).get("Vpcs", []) if vpcs else []:
            tags = _tags(v.get("Tags"))
            vid = v["VpcId"]
            errs = {} if _ok(fl) else {"flow_logs": _why(fl, "ec2:DescribeFlowLogs")}
            attrs = {"vpc_id": vid, "cidr": v.get("CidrBlock"), "is_default": bool(v.get("IsDefault")), "tags": tags}
            if _ok(fl):
                attrs["flow_logs"] = vid in flow_vpcs
            self.asset("aws.ec2.vpc", arn(P, "ec2", r, A, f"vpc/{vid}"), sc, name=_name(tags, vid), attrs=attrs,
                       errors=errs, ev=ev(vpcs, fl))

        igw_ids = set()
        for gw in (igws.answer or {}).get("InternetGateways", []) if igws else []:
            gid = gw["InternetGatewayId"]
            igw_ids.add(gid)
            tags = _tags(gw.get("Tags"))
            self.asset("aws.ec2.internet_gateway", arn(P, "ec2", r, A, f"internet-gateway/{gid}"), sc, name=_name(tags, gid),
                       attrs={"gateway_id": gid, "vpc_ids": [x.get("VpcId") for x in gw.get("Attachments", [])], "tags": tags},
                       ev=ev(igws))
        public_rt: dict[str, bool] = {}
        subnet_rt: dict[str, str] = {}
        main_rt: dict[str, str] = {}
        for rt in (rts.answer or {}).get("RouteTables", []) if rts else []:
            rid = rt["RouteTableId"]
            pub = any(str(x.get("GatewayId", "")).startswith("igw-") and
                      (x.get("DestinationCidrBlock") == ANY4 or x.get("DestinationIpv6CidrBlock") == ANY6)
                      for x in rt.get("Routes", []))
            public_rt[rid] = pub
            for asc in rt.get("Associations", []):
                if asc.get("Main"):
                    main_rt[rt.get("VpcId")] = rid
                elif asc.get("SubnetId"):
                    subnet_rt[asc["SubnetId"]] = rid
            tags = _tags(rt.get("Tags"))
            self.asset("aws.ec2.route_table", arn(P, "ec2", r, A, f"route-table/{rid}"), sc, name=_name(tags, rid),
                       attrs={"route_table_id": rid, "vpc_id": rt.get("VpcId"), "internet_route": pub,
                              "routes": [{k: x.get(k) for k in ("DestinationCidrBlock", "DestinationIpv6CidrBlock",
                                                                 "GatewayId", "NatGatewayId", "State") if x.get(k)}
                                         for x in rt.get("Routes", [])]}, ev=ev(rts))
        for sn in (subnets.answer or {}).get("Subnets", []) if subnets else []:
            sid = sn["SubnetId"]
            tags = _tags(sn.get("Tags"))
            attrs = {"subnet_id": sid, "vpc_id": sn.get("VpcId"), "cidr": sn.get("CidrBlock"),
                     "availability_zone": sn.get("AvailabilityZone"),
                     "map_public_ip": bool(sn.get("MapPublicIpOnLaunch")), "tags": tags}
            errs = {}
            if rts is not None:
                rid = subnet_rt.get(sid) or main_rt.get(sn.get("VpcId"))
                attrs["public"] = bool(rid and public_rt.get(rid))
            else:
                errs["public"] = _why(self.ix.get("ec2:DescribeRouteTables", r), "ec2:DescribeRouteTables")
            self.asset("aws.ec2.subnet", arn(P, "ec2", r, A, f"subnet/{sid}"), sc, name=_name(tags, sid), attrs=attrs,
                       errors=errs, ev=ev(subnets, rts))

        used_groups = set()
        if _ok(enis):
            for ni in (enis.answer or {}).get("NetworkInterfaces", []):
                used_groups |= {g_.get("GroupId") for g_ in ni.get("Groups", [])}
        for inst_res in (insts.answer or {}).get("Reservations", []) if insts else []:
            for i in inst_res.get("Instances", []):
                used_groups |= {g_.get("GroupId") for g_ in i.get("SecurityGroups", [])}
        for sg in (sgs.answer or {}).get("SecurityGroups", []) if sgs else []:
            gid = sg["GroupId"]
            tags = _tags(sg.get("Tags"))
            attrs = {"group_id": gid, "group_name": sg.get("GroupName"), "vpc_id": sg.get("VpcId"),
                     "ingress": _perms(sg.get("IpPermissions")), "egress": _perms(sg.get("IpPermissionsEgress")),
                     "tags": tags}
            errs = {}
            if _ok(enis):
                attrs["in_use"] = gid in used_groups
            else:
                errs["in_use"] = _why(enis, "ec2:DescribeNetworkInterfaces")
            self.asset("aws.ec2.security_group", arn(P, "ec2", r, A, f"security-group/{gid}"), sc,
                       name=sg.get("GroupName") or gid, attrs=attrs, errors=errs, ev=ev(sgs, enis))
        for na in (nacls.answer or {}).get("NetworkAcls", []) if nacls else []:
            nid = na["NetworkAclId"]
            tags = _tags(na.get("Tags"))
            entries = []
            for e in na.get("Entries", []):
                pr = e.get("PortRange") or {}
                proto = str(e.get("Protocol", "-1"))
                entries.append({"rule_number": e.get("RuleNumber"), "egress": bool(e.get("Egress")),
                                "action": e.get("RuleAction"), "protocol": {"-1": "all", "6": "tcp", "17": "udp"}.get(proto, proto),
                                "cidr": e.get("CidrBlock") or e.get("Ipv6CidrBlock"),
                                "from_port": pr.get("From", 0 if proto == "-1" else None),
                                "to_port": pr.get("To", 65535 if proto == "-1" else None)})
            self.asset("aws.ec2.network_acl", arn(P, "ec2", r, A, f"network-acl/{nid}"), sc, name=_name(tags, nid),
                       attrs={"network_acl_id": nid, "vpc_id": na.get("VpcId"), "is_default": bool(na.get("IsDefault")),
                              "entries": entries, "subnets": [x.get("SubnetId") for x in na.get("Associations", [])],
                              "tags": tags}, ev=ev(nacls))
        for inst_res in (insts.answer or {}).get("Reservations", []) if insts else []:
            for i in inst_res.get("Instances", []):
                iid = i["InstanceId"]
                tags = _tags(i.get("Tags"))
                md = i.get("MetadataOptions") or {}
                self.asset("aws.ec2.instance", arn(P, "ec2", r, A, f"instance/{iid}"), sc, name=_name(tags, iid), ev=ev(insts),
                           attrs={"instance_id": iid, "state": (i.get("State") or {}).get("Name"),
                                  "public_ip": i.get("PublicIpAddress"), "private_ip": i.get("PrivateIpAddress"),
                                  "vpc_id": i.get("VpcId"), "subnet_id": i.get("SubnetId"),
                                  "imds_v2_required": md.get("HttpTokens") == "required",
                                  "imds_enabled": md.get("HttpEndpoint", "enabled") == "enabled",
                                  "platform": i.get("Platform") or "linux", "image_id": i.get("ImageId"),
                                  "instance_type": i.get("InstanceType"),
                                  "security_groups": [g_.get("GroupId") for g_ in i.get("SecurityGroups", [])],
                                  "tags": tags})
        for v in (vols.answer or {}).get("Volumes", []) if vols else []:
            vid = v["VolumeId"]
            tags = _tags(v.get("Tags"))
            self.asset("aws.ec2.volume", arn(P, "ec2", r, A, f"volume/{vid}"), sc, name=_name(tags, vid), ev=ev(vols),
                       attrs={"volume_id": vid, "encrypted": bool(v.get("Encrypted")), "kms_key_id": v.get("KmsKeyId"),
                              "state": v.get("State"), "size_gb": v.get("Size"),
                              "attached_to": [x.get("InstanceId") for x in v.get("Attachments", [])], "tags": tags})
        candidates = {x["SnapshotId"] for x in (pub_snaps.answer or {}).get("Snapshots", [])} if _ok(pub_snaps) else set()
        for sn in (snaps.answer or {}).get("Snapshots", []) if snaps else []:
            sid = sn["SnapshotId"]
            tags = _tags(sn.get("Tags"))
            attrs = {"snapshot_id": sid, "encrypted": bool(sn.get("Encrypted")), "kms_key_id": sn.get("KmsKeyId"),
                     "volume_id": sn.get("VolumeId"), "tags": tags}
            errs = {}
            sat = None
            if not _ok(pub_snaps):
                errs["public"] = _why(pub_snaps, "ec2:DescribeSnapshots(RestorableByUserIds=all)")
            elif sid not in candidates:
                attrs["public"] = False
            else:
                sat = self.ix.get("ec2:DescribeSnapshotAttribute", r, {"SnapshotId": sid, "Attribute": "createVolumePermission"})
                if _ok(sat):
                    attrs["public"] = any(p_.get("Group") == "all" for p_ in (sat.answer or {}).get("CreateVolumePermissions", []))
                else:
                    errs["public"] = _why(sat, "ec2:DescribeSnapshotAttribute")
            self.asset("aws.ec2.snapshot", arn(P, "ec2", r, "", f"snapshot/{sid}"), sc, name=_name(tags, sid),
                       attrs=attrs, errors=errs, ev=ev(snaps, pub_snaps, sat))

        # the region itself: default encryption, and the anchor for per-region checks (Config, GuardDuty)
        rattrs: dict[str, Any] = {"region": r, "partition": P, "account_id": A}
        rerrs: dict[str, str] = {}
        if _ok(ebs_def):
            rattrs["ebs_encryption_by_default"] = bool((ebs_def.answer or {}).get("EbsEncryptionByDefault"))
        elif ebs_def is not None and ebs_def.status == EvidenceStatus.not_available:
            rattrs["ebs_encryption_by_default"] = None
        else:
            rerrs["ebs_encryption_by_default"] = _why(ebs_def, "ec2:GetEbsEncryptionByDefault")
        self.asset("aws.region", f"{A}:{r}", sc, name=r, attrs=rattrs, errors=rerrs,
                   ev=[self.scope_rec.id] + ev(ebs_def))

        self.cloudtrail(r, sc)
        self.logs(r, sc)
        self.config(r, sc)
        self.guardduty(r, sc)
        self.rds(r, sc)
        self.kms(r, sc)
        self.elb(r, sc)
        self.acm(r, sc)

    def cloudtrail(self, r: str, sc: str) -> None:
        rec = self.listed(["aws.cloudtrail.trail"], sc, "cloudtrail:DescribeTrails", r, {"includeShadowTrails": False})
        if rec is None:
            return
        for t in (rec.answer or {}).get("trailList", []):
            tarn = t.get("TrailARN") or arn(self.part, "cloudtrail", r, self.acct, f"trail/{t.get('Name')}")
            st = self.ix.get("cloudtrail:GetTrailStatus", r, {"Name": tarn})
            es = self.ix.get("cloudtrail:GetEventSelectors", r, {"TrailName": tarn})
            attrs = {"arn": tarn, "home_region": t.get("HomeRegion", r), "multi_region": bool(t.get("IsMultiRegionTrail")),
                     "log_file_validation": bool(t.get("LogFileValidationEnabled")), "kms_key_id": t.get("KmsKeyId"),
                     "s3_bucket": t.get("S3BucketName"), "cloudwatch_log_group": t.get("CloudWatchLogsLogGroupArn"),
                     "global_service_events": bool(t.get("IncludeGlobalServiceEvents")),
                     "organization_trail": bool(t.get("IsOrganizationTrail"))}
            errs = {}
            if _ok(st):
                attrs["logging"] = bool((st.answer or {}).get("IsLogging"))
            else:
                errs["logging"] = _why(st, "cloudtrail:GetTrailStatus")
            if _ok(es):
                attrs["management_events"] = _mgmt_events(es.answer or {})
            else:
                errs["management_events"] = _why(es, "cloudtrail:GetEventSelectors")
            self.asset("aws.cloudtrail.trail", tarn, sc, name=t.get("Name"), attrs=attrs, errors=errs,
                       ev=[rec.id] + [x.id for x in (st, es) if x])

    def logs(self, r: str, sc: str) -> None:
        rec = self.listed(["aws.logs.log_group"], sc, "logs:DescribeLogGroups", r)
        for lg in (rec.answer or {}).get("logGroups", []) if rec else []:
            name = lg["logGroupName"]
            garn = arn(self.part, "logs", r, self.acct, f"log-group:{name}")
            self.asset("aws.logs.log_group", garn, sc, name=name, ev=[rec.id],
                       attrs={"arn": garn, "retention_days": lg.get("retentionInDays"), "kms_key_id": lg.get("kmsKeyId")})

    def config(self, r: str, sc: str) -> None:
        rec = self.listed(["aws.config.recorder"], sc, "config:DescribeConfigurationRecorders", r)
        st = self.ix.get("config:DescribeConfigurationRecorderStatus", r)
        status = {x.get("name"): x for x in (st.answer or {}).get("ConfigurationRecordersStatus", [])} if _ok(st) else {}
        for cr in (rec.answer or {}).get("ConfigurationRecorders", []) if rec else []:
            name = cr.get("name", "default")
            rg = cr.get("recordingGroup") or {}
            attrs = {"all_supported": bool(rg.get("allSupported")),
                     "include_global_resource_types": bool(rg.get("includeGlobalResourceTypes"))}
            errs = {}
            if _ok(st):
                attrs["recording"] = bool((status.get(name) or {}).get("recording"))
                attrs["last_status"] = (status.get(name) or {}).get("lastStatus")
            else:
                errs["recording"] = _why(st, "config:DescribeConfigurationRecorderStatus")
            self.asset("aws.config.recorder", arn(self.part, "config", r, self.acct, f"config-recorder/{name}"), sc,
                       name=name, attrs=attrs, errors=errs, ev=[rec.id] + ([st.id] if st else []))

    def guardduty(self, r: str, sc: str) -> None:
        rec = self.listed(["aws.guardduty.detector"], sc, "guardduty:ListDetectors", r)
        for d in (rec.answer or {}).get("DetectorIds", []) if rec else []:
            got = self.ix.get("guardduty:GetDetector", r, {"DetectorId": d})
            attrs, errs = {"detector_id": d}, {}
            if _ok(got):
                attrs["status"] = (got.answer or {}).get("Status")
                attrs["finding_publishing_frequency"] = (got.answer or {}).get("FindingPublishingFrequency")
            else:
                errs["status"] = _why(got, "guardduty:GetDetector")
            self.asset("aws.guardduty.detector", arn(self.part, "guardduty", r, self.acct, f"detector/{d}"), sc, name=d,
                       attrs=attrs, errors=errs, ev=[rec.id] + ([got.id] if got else []))

    def rds(self, r: str, sc: str) -> None:
        rec = self.listed(["aws.rds.instance"], sc, "rds:DescribeDBInstances", r)
        for db in (rec.answer or {}).get("DBInstances", []) if rec else []:
            ident = db["DBInstanceIdentifier"]
            darn = arn(self.part, "rds", r, self.acct, f"db:{ident}")
            self.asset("aws.rds.instance", darn, sc, name=ident, ev=[rec.id],
                       attrs={"arn": darn, "engine": db.get("Engine"), "storage_encrypted": bool(db.get("StorageEncrypted")),
                              "kms_key_id": db.get("KmsKeyId"), "backup_retention_days": int(db.get("BackupRetentionPeriod") or 0),
                              "multi_az": bool(db.get("MultiAZ")), "publicly_accessible": bool(db.get("PubliclyAccessible")),
                              "endpoint": (db.get("Endpoint") or {}).get("Address"), "status": db.get("DBInstanceStatus"),
                              "cluster": db.get("DBClusterIdentifier"), "tags": _tags(db.get("TagList"))})

    def kms(self, r: str, sc: str) -> None:
        rec = self.listed(["aws.kms.key"], sc, "kms:ListKeys", r)
        for k in (rec.answer or {}).get("Keys", []) if rec else []:
            kid = k["KeyId"]
            karn = arn(self.part, "kms", r, self.acct, f"key/{kid}")
            d = self.ix.get("kms:DescribeKey", r, {"KeyId": kid})
            rot = self.ix.get("kms:GetKeyRotationStatus", r, {"KeyId": kid})
            attrs: dict[str, Any] = {"arn": karn, "key_id": kid}
            errs: dict[str, str] = {}
            if _ok(d):
                m = (d.answer or {}).get("KeyMetadata", {})
                attrs.update(key_manager=m.get("KeyManager"), key_state=m.get("KeyState"),
                             key_spec=m.get("KeySpec", "SYMMETRIC_DEFAULT"), key_usage=m.get("KeyUsage"),
                             origin=m.get("Origin"))
                rotatable = m.get("KeyManager") == "CUSTOMER" and attrs["key_spec"] == "SYMMETRIC_DEFAULT" \
                    and m.get("KeyState") not in ("PendingDeletion", "PendingReplicaDeletion")
                if m.get("KeyManager") == "AWS":
                    attrs["rotation_enabled"] = True  # AWS managed keys rotate automatically (yearly)
                elif not rotatable:
                    attrs["rotation_enabled"] = None
                elif _ok(rot):
                    attrs["rotation_enabled"] = bool((rot.answer or {}).get("KeyRotationEnabled"))
                else:
                    errs["rotation_enabled"] = _why(rot, "kms:GetKeyRotationStatus")
            else:
                errs["key_manager"] = errs["rotation_enabled"] = _why(d, "kms:DescribeKey")
            self.asset("aws.kms.key", karn, sc, name=kid, attrs=attrs, errors=errs,
                       ev=[rec.id] + [x.id for x in (d, rot) if x])

    def wafv2(self, r: str, sc: str) -> tuple[EvidenceRecord | str, bool]:
        """Regional web ACLs (every page of ListWebACLs) with their logging. Returns the first page's record
        (ok, or the not-offered record), or why WAF could not be read in the region; and whether it has any."""
        params: dict[str, Any] = {"Scope": "REGIONAL", "Limit": 100}
        first = self.ix.get("wafv2:ListWebACLs", r, params)
        if first is None:  # not offered in the region: Fetcher.not_offered records it without params
            na = self.ix.get("wafv2:ListWebACLs", r, {})
            if na is not None and na.status == EvidenceStatus.not_available:
                self.listed(["aws.wafv2.web_acl"], sc, "wafv2:ListWebACLs", r, {})
                return na, False
        self.listed(["aws.wafv2.web_acl"], sc, "wafv2:ListWebACLs", r, params)
        pages, why = self.marker_pages("wafv2:ListWebACLs", r, params, "WebACLs")
        if why is not None:
            if pages:  # the first page was read (coverage ok): say the list is incomplete after all
                self.s.coverage("aws.wafv2.web_acl", sc, EvidenceStatus.error, why, [p.id for p in pages])
            return why, False
        lpages, lwhy = self.marker_pages("wafv2:ListLoggingConfigurations", r, params, "LoggingConfigurations")
        logged = {c.get("ResourceArn") for p in lpages for c in (p.answer or {}).get("LoggingConfigurations", [])}
        guards: dict[str, list[EvidenceRecord]] = {}  # web ACL ARN -> the association answers naming it
        for a in self.ix.by_source.get("wafv2:GetWebACLForResource", []):
            acl = ((a.answer or {}).get("WebACL") or {}).get("ARN") if _ok(a) else None
            if acl and (a.request or {}).get("region") == r:
                guards.setdefault(acl, []).append(a)
        for page in pages:
            for w in (page.answer or {}).get("WebACLs", []):
                attrs: dict[str, Any] = {"arn": w.get("ARN"), "id": w.get("Id"), "description": w.get("Description"),
                                         "associated": sorted(((g.request or {}).get("params") or {}).get("ResourceArn")
                                                              for g in guards.get(w.get("ARN"), []))}
                errs: dict[str, str] = {}
                if lwhy is None:
                    attrs["logging"] = w.get("ARN") in logged
                else:
                    errs["logging"] = lwhy
                self.asset("aws.wafv2.web_acl", w.get("ARN") or w.get("Id"), sc, name=w.get("Name"), attrs=attrs,
                           errors=errs, ev=[page.id] + [x.id for x in lpages] + [g.id for g in guards.get(w.get("ARN"), [])])
        return first, any((p.answer or {}).get("WebACLs") for p in pages)

    def marker_pages(self, source: str, r: str, params: dict, items: str) -> tuple[list[EvidenceRecord], str | None]:
        """The pages Fetcher.marker_pages recorded, in order, and why the chain is incomplete (None when it
        is complete): a page that failed, is missing, or a marker that comes round again."""
        pages: list[EvidenceRecord] = []
        seen: set[str] = set()
        rec = self.ix.get(source, r, params)
        while True:
            if not _ok(rec):
                return pages, _why(rec, source + (" (next page)" if pages else ""))
            pages.append(rec)
            marker = (rec.answer or {}).get("NextMarker")
            if not marker or not (rec.answer or {}).get(items):
                return pages, None
            if marker in seen:
                return pages, f"{source}: NextMarker {marker[:40]!r} repeated, the list is incomplete"
            seen.add(marker)
            params = {**params, "NextMarker": marker}
            rec = self.ix.get(source, r, params)

    def elb(self, r: str, sc: str) -> None:
        rec = self.listed(["aws.elb.load_balancer"], sc, "elbv2:DescribeLoadBalancers", r)
        waf, waf_any = self.wafv2(r, sc)
        for lb in (rec.answer or {}).get("LoadBalancers", []) if rec else []:
            larn = lb["LoadBalancerArn"]
            attrs: dict[str, Any] = {"arn": larn, "type": lb.get("Type"), "scheme": lb.get("Scheme"),
                                     "dns_name": lb.get("DNSName"), "vpc_id": lb.get("VpcId"),
                                     "availability_zones": [z.get("ZoneName") for z in lb.get("AvailabilityZones", [])]}
            errs = {}
            wev: list[EvidenceRecord | None] = []
            if lb.get("Type") == "application" and lb.get("Scheme") == "internet-facing":
                # which regional web ACL guards this internet-facing ALB (None: none does)
                if isinstance(waf, str):  # WAF could not be read here: no verdict either way
                    errs["waf_web_acl"] = waf
                    wev = [self.ix.get("wafv2:ListWebACLs", r, {"Scope": "REGIONAL", "Limit": 100})]
                elif waf.status == EvidenceStatus.not_available:
                    attrs["waf_offered"] = False
                    wev = [waf]
                elif not waf_any:
                    attrs["waf_web_acl"] = None
                    wev = [waf]
                else:
                    assoc = self.ix.get("wafv2:GetWebACLForResource", r, {"ResourceArn": larn})
                    if _ok(assoc):
                        attrs["waf_web_acl"] = ((assoc.answer or {}).get("WebACL") or {}).get("ARN")
                    else:
                        errs["waf_web_acl"] = _why(assoc, "wafv2:GetWebACLForResource")
                    wev = [waf, assoc]
            ls = self.ix.get("elbv2:DescribeListeners", r, {"LoadBalancerArn": larn}) if lb.get("Type") != "gateway" else None
            if lb.get("Type") == "gateway":
                attrs["listeners"] = []  # gateway load balancers have no TLS-terminating listeners
            elif _ok(ls):
                attrs["listeners"] = [{"protocol": x.get("Protocol"), "port": x.get("Port"),
                                       "ssl_policy": x.get("SslPolicy") if x.get("Protocol") in ("HTTPS", "TLS") else None,
                                       "redirects_to_https": any(
                                           (a.get("Type") == "redirect" and (a.get("RedirectConfig") or {}).get("Protocol") == "HTTPS")
                                           for a in x.get("DefaultActions", []))}
                                      for x in (ls.answer or {}).get("Listeners", [])]
            else:
                errs["listeners"] = _why(ls, "elbv2:DescribeListeners")
            self.asset("aws.elb.load_balancer", larn, sc, name=lb.get("LoadBalancerName"), attrs=attrs, errors=errs,
                       ev=[rec.id] + ([ls.id] if ls else []) + [w.id for w in wev if w is not None])

    def acm(self, r: str, sc: str) -> None:
        rec = self.listed(["aws.acm.certificate"], sc, "acm:ListCertificates", r)
        for c in (rec.answer or {}).get("CertificateSummaryList", []) if rec else []:
            self.asset("aws.acm.certificate", c["CertificateArn"], sc, name=c.get("DomainName"), ev=[rec.id],
                       attrs={"domain": c.get("DomainName"), "not_after": c.get("NotAfter"), "in_use": c.get("InUse"),
                              "status": c.get("Status"), "type": c.get("Type")})


def _default_doc(p: dict) -> Any:
    for v in p.get("PolicyVersionList", []):
        if v.get("IsDefaultVersion"):
            return v.get("Document")
    return None


def _sse(a: Any) -> dict | None:
    if not a:
        return None
    rules = ((a.get("ServerSideEncryptionConfiguration") or {}).get("Rules") or [])
    for rule in rules:
        d = rule.get("ApplyServerSideEncryptionByDefault") or {}
        if d.get("SSEAlgorithm"):
            return {"algorithm": d["SSEAlgorithm"], "kms_key_id": d.get("KMSMasterKeyID"),
                    "bucket_key": bool(rule.get("BucketKeyEnabled"))}
    return None


def _mgmt_events(a: dict) -> str | None:
    """'All', 'ReadOnly', 'WriteOnly' or None, from classic or advanced event selectors."""
    for sel in a.get("EventSelectors") or []:
        if sel.get("IncludeManagementEvents", True):
            return sel.get("ReadWriteType", "All")
    for sel in a.get("AdvancedEventSelectors") or []:
        fields = {f.get("Field"): f for f in sel.get("FieldSelectors", [])}
        cat = fields.get("eventCategory") or {}
        if "Management" in (cat.get("Equals") or []):
            ro = fields.get("readOnly")
            if not ro:
                return "All"
            return "ReadOnly" if "true" in (ro.get("Equals") or []) else "WriteOnly"
    return None
