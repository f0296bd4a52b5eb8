"""The client questionnaire (stage 1): the architecture section prefilled from a bundle's inventory, the
sections only the client can answer left empty with guidance, and validation of an answered file.

Each collector describes its own asset types (`Collector.architecture`, see architecture.py); prefill merges
what they say and adds what is generic. A kind of asset the inventory does not hold is listed under
`architecture.not_seen`, and kinds that could not be collected under `architecture.coverage_gaps`, so an
empty list never reads as "there is none".
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .architecture import SECTIONS, ArchitectureEntries, entry_source, group_by_type
from .architecture import personal_data_hint as personal_data_hint  # public here too (grading, tests)
from .bundle import BundleReader, open_bundle
from .errors import InputError, pydantic_message
from .models import (ArchitectureSection, AssetCount, CoverageGap, EvidenceStatus, Inventory, Meta, PrefillSource,
                     Questionnaire, utcnow)
from .plugins import Collector, collectors
from .terminal import yaml_dump  # strings with control/bidi characters are written escaped

__all__ = ["build", "keep_answers", "load", "load_inventory", "open_bundle", "parse", "personal_data_hint", "prefill",
           "render_yaml", "validation_message"]


def load_inventory(reader: BundleReader) -> Inventory:
    return reader.inventory()

# --------------------------------------------------------------------------- prefill


def prefill(inv: Inventory) -> ArchitectureSection:
    """The architecture section: every collector's entries for the assets it defines (`Collector.architecture`),
    merged section by section in the collectors' `architecture_order`; then what is generic: counts per asset
    type, coverage gaps, and the kinds of entry the inventory holds nothing of."""
    arch = ArchitectureSection()
    contributions: list[tuple[type[Collector], ArchitectureEntries]] = []
    failures: list[CoverageGap] = []
    for name, cls in sorted(collectors().items()):
        try:
            contributions.append((cls, cls().architecture(list(inv.assets))))
        except Exception as e:  # noqa: BLE001 - a broken plugin costs its own entries, and says so
            failures.append(CoverageGap(asset_type=f"{name} collector", scope="questionnaire", status="error",
                                        reason=f"collector {name} could not describe its assets: {type(e).__name__}: {e}"))
    for section in SECTIONS:
        for cls, entries in sorted(contributions, key=lambda c: (c[0].architecture_rank(section), c[0].name)):
            getattr(arch, section).extend(getattr(entries, section))
    by_type = group_by_type(inv.assets)
    for asset_type in sorted(by_type):
        assets = by_type[asset_type]
        arch.counts.append(AssetCount(asset_type=asset_type, count=len(assets),
                                      source=sorted({e for a in assets for e in entry_source(a)})))
    for c in inv.coverage:
        if c.status != EvidenceStatus.ok:
            arch.coverage_gaps.append(CoverageGap(asset_type=c.asset_type, scope=c.scope, status=c.status.value,
                                                  reason=c.reason, source=list(c.evidence)))
    arch.coverage_gaps.extend(failures)
    for key, label in (("cloud_accounts", "cloud accounts"), ("networks", "networks/zones"),
                       ("internet_endpoints", "internet-facing endpoints"), ("hosts", "hosts"),
                       ("kubernetes_clusters", "Kubernetes clusters"), ("data_stores", "data stores"),
                       ("security_services", "security services")):
        if not getattr(arch, key):
            arch.not_seen.append(f"{key}: no {label} in the inventory (not scanned, or none exist)")
    return arch


def build(reader=None, bundle_path: Path | None = None) -> Questionnaire:
    q = Questionnaire(meta=Meta(generated_at=utcnow()))
    if reader is None:
        return q
    m = reader.manifest()
    q.meta.prefilled_from = PrefillSource(bundle=str(Path(bundle_path or reader.path).expanduser().absolute()),
                                          manifest_sha256=reader.manifest_sha256(), system=m.system,
                                          scanned_at=m.finished_at)
    q.architecture = prefill(load_inventory(reader))
    _system_from_scan(q, reader)
    return q


def _system_from_scan(q: Questionnaire, reader: BundleReader) -> None:
    """The system section's facts scan.yaml already states: name, level (current_level), filing date and
    description (business_description)."""
    try:
        settings = reader.scan_settings()
    except Exception:  # noqa: BLE001 - an unreadable scan.json leaves the section to the client
        return
    sysc = settings.config.get("system") or {}
    if not isinstance(sysc, dict):
        return
    try:
        if sysc.get("name"):
            q.system.name = str(sysc["name"])
        if sysc.get("level") is not None:
            q.system.current_level = int(sysc["level"])
        if sysc.get("filing_date"):
            q.system.filing_date = date.fromisoformat(str(sysc["filing_date"]))
        if sysc.get("description"):
            q.system.business_description = str(sysc["description"])
    except (TypeError, ValueError):
        return


def keep_answers(fresh: Questionnaire, answered: Questionnaire) -> Questionnaire:
    """The client's answers (and architecture notes) from `answered`, the architecture from `fresh`."""
    q = fresh.model_copy(deep=True)
    for section in ("organisation", "system", "data", "users", "impact"):
        setattr(q, section, getattr(answered, section).model_copy(deep=True))
    q.architecture.notes = answered.architecture.notes
    return q


# --------------------------------------------------------------------------- writing YAML with guidance

_HEADER = """\
# MLPS 2.0 (等级保护 2.0) client questionnaire — mlps-scan
#
# Fill in every section marked CLIENT. Leave a value as null (~) if you do not know it yet: the grading
# treats unanswered harm questions conservatively (it assumes harm rather than none).
# 请填写所有标注 CLIENT 的部分。不确定的值保留为 null (~)：定级时未回答的危害问题按保守原则处理。
#
# The architecture section was prefilled from the scan; every entry's `source` lists the evidence ids
# (files evidence/<id>.json of the bundle) it was read from. Correct it in `architecture.notes`.
# 系统架构部分根据扫描结果预填；每条记录的 source 为其依据的证据编号。如有出入请在 architecture.notes 中说明。
# Unknown keys and wrong types are errors: keep the key names as written.
"""

_CLIENT = """\
# ---------------------------------------------------------------- CLIENT: organisation 单位信息
organisation:
  name: {org_name}# legal name of the operator 运营使用单位名称
  industry: ~                 # e.g. retail, finance, healthcare 所属行业
  competent_authority: ~      # industry regulator, if any 行业主管部门（如有）
  security_officer: ~         # who is responsible for cybersecurity 网络安全责任人（职务/姓名）
  operations_location: ~      # city where security management / operations sit (decides the filing PSB) 安全管理/运维所在地

# ---------------------------------------------------------------- CLIENT: system 定级对象
system:
  name: {system_name}# the grading object 定级对象名称 (prefilled: the scan config's system name)
  purpose: ~                  # what the system is for, in one sentence 系统用途
  business_description: ~     # main services and who uses them 主要业务及服务对象
  deployment: ~               # cloud | on_premises | hybrid 部署方式
  go_live_date: ~             # YYYY-MM-DD 上线日期
  service_hours: ~            # 24x7 | business_hours | other 服务时间
  max_tolerable_downtime_hours: ~   # 0-8760 最长可容忍中断时间（小时）
  filing_date: ~              # YYYY-MM-DD of the 备案, if already filed 备案日期（如已备案）
  current_level: ~            # 1-5, if already graded 现定级别（如有）
  last_assessment_date: ~     # YYYY-MM-DD of the last 等级测评 上次测评日期

# ---------------------------------------------------------------- CLIENT: data 数据
# collected: true/false; records: approximate number of records or individuals; kinds: list of data items.
# Personal information 个人信息: any information identifying a natural person (name, phone, address...).
# Sensitive personal information 敏感个人信息: biometrics, religion, medical health, financial accounts,
#   whereabouts, ID numbers, and any personal information of minors under 14 (PIPL Art. 28).
# Important data 重要数据: data that, if tampered with, destroyed, leaked or illegally obtained or used, may
#   endanger national security, economic operation, social stability or public health and safety
#   (Data Security Law; see your industry's important-data catalogue).
data:
  personal_information:
    collected: ~
    records: ~
    kinds: []
  sensitive_personal_information:
    collected: ~
    records: ~
    kinds: []
  important_data:
    collected: ~
    records: ~
    kinds: []
  total_volume_gb: ~          # total stored data in GB 数据总量（GB）
  cross_border_transfer: ~    # true if data leaves mainland China 是否出境

# ---------------------------------------------------------------- CLIENT: users 用户
users:
  internal: ~                 # number of internal users (staff, contractors) 内部用户数
  external: ~                 # number of external users (customers, the public) 外部用户数
  peak_concurrent: ~          # peak concurrent users 峰值并发用户数
  public_access: ~            # true if the public reaches it over the internet 是否面向互联网公众
"""

_IMPACT = """\
# ---------------------------------------------------------------- CLIENT: impact 危害评估 (drives the level)
# For each aspect, the degree of harm to each object if the worst happens:
#   business_information 业务信息安全: the system's information is leaked, altered or lost
#   system_service       系统服务安全: the system's service is unavailable or degraded
# Objects 受侵害的客体:
#   citizens_legal_persons        公民、法人和其他组织的合法权益
#   social_order_public_interest  社会秩序、公共利益
#   national_security             国家安全
# Degree 损害程度: none | general 一般损害 | serious 严重损害 | particularly_serious 特别严重损害
#   general: limited impact, partial loss of function, recoverable loss;
#   serious: significant impact, loss of important functions, serious loss that is hard to recover;
#   particularly_serious: very serious impact, function lost, irreparable or extremely serious loss.
# If you cannot decide, give a list, e.g. [general, serious]: the grade takes the higher one.
# 无法确定时可填写列表，如 [general, serious]，定级取较高者。null = not answered 未回答。
impact:
  business_information:
    citizens_legal_persons: ~
    social_order_public_interest: ~
    national_security: ~
    rationale: ~              # why, in a few words 理由
  system_service:
    citizens_legal_persons: ~
    social_order_public_interest: ~
    national_security: ~
    rationale: ~
"""

_ARCH_HEAD = """\
# ---------------------------------------------------------------- PREFILLED: architecture 系统架构
# Read from the scan's inventory.json. Each entry's `source` = evidence ids in the bundle.
# cloud_accounts 云账号与区域 | networks 网络与区域 (VPC/subnet/namespace/firewall zone) |
# internet_endpoints 互联网暴露面 | hosts 主机及操作系统 | kubernetes_clusters 容器集群 |
# data_stores 数据存储 (encrypted: 是否加密) | security_services 安全服务 | counts 资产数量 |
# coverage_gaps 未能采集的部分 (not a clean bill: these were not seen) | not_seen 清单中没有的类别
"""


def _dump(obj: Any) -> str:
    return yaml_dump(obj, allow_unicode=True, sort_keys=False, default_flow_style=None, width=200)


def _source_last(obj: Any) -> Any:
    """Entries read better with what they say first and where it came from last."""
    if isinstance(obj, list):
        return [_source_last(x) for x in obj]
    if isinstance(obj, dict):
        out = {k: _source_last(v) for k, v in obj.items() if k not in ("scope", "source")}
        for k in ("scope", "source"):
            if k in obj:
                out[k] = obj[k]
        return out
    return obj


def _q(v: Any) -> str:
    return "~" if v is None else _dump(v).strip().removesuffix("\n...").strip()


def render_yaml(q: Questionnaire, template: bool = False) -> str:
    """The questionnaire as commented YAML: the client sections are the commented template with the values
    already in `q` filled in (so answers survive a refresh), architecture and meta are dumped from the model."""
    if not template and q.system.name is None and q.meta.prefilled_from:
        q = q.model_copy(deep=True)
        q.system.name = q.meta.prefilled_from.system
    meta = q.meta.model_dump(mode="json", exclude_none=True)
    parts = [_HEADER, "meta:\n" + _indent(_dump(meta))]
    answers = q.model_dump(mode="json")
    parts.append("\n" + _fill(_CLIENT.format(org_name="~".ljust(22), system_name="~".ljust(22)), answers))
    arch = q.architecture.model_dump(mode="json", exclude_none=True)
    for d in arch.get("data_stores", []):
        d.setdefault("encrypted", None)  # unknown must show, not vanish
    arch = _source_last(arch)
    parts.append("\n" + _ARCH_HEAD + "architecture:\n" + _indent(_dump(arch)))
    parts.append("\n" + _fill(_IMPACT, answers))
    return "".join(parts)


_TEMPLATE_LINE = re.compile(r"^(?P<indent> *)(?P<key>[a-z_]+):(?P<value> *(~|\[\])?)(?P<pad> *)(?P<comment>#.*)?$")


def _inline(v: Any) -> str:
    if isinstance(v, str) and "\n" not in v:
        text = yaml_dump(v, allow_unicode=True, default_flow_style=True, width=1 << 20).strip()
        return text.removesuffix("...").strip()
    return json_flow(v)


def json_flow(v: Any) -> str:
    return yaml_dump(v, allow_unicode=True, default_flow_style=True, width=1 << 20).strip().removesuffix("...").strip()


def _fill(template: str, answers: dict) -> str:
    """Put the answers into the commented template: `key: ~  # comment` -> `key: value  # comment`."""
    out, stack = [], []  # stack of (indent, key)
    for line in template.splitlines(True):
        m = _TEMPLATE_LINE.match(line.rstrip("\n"))
        if not m:
            out.append(line)
            continue
        ind = len(m["indent"])
        while stack and stack[-1][0] >= ind:
            stack.pop()
        path = [k for _, k in stack] + [m["key"]]
        if not m["value"].strip():  # a mapping key: descend
            stack.append((ind, m["key"]))
            out.append(line)
            continue
        v: Any = answers
        for k in path:
            v = v.get(k) if isinstance(v, dict) else None
        if v is None or v == []:
            out.append(line)
            continue
        head = f"{m['indent']}{m['key']}: {_inline(v)}"
        if m["comment"]:
            head = head.ljust(max(len(head) + 1, 30)) + m["comment"]
        out.append(head + "\n")
    return "".join(out)


def _indent(text: str, n: int = 2) -> str:
    return "".join((" " * n + line) if line.strip() else line for line in text.splitlines(True))


# --------------------------------------------------------------------------- loading an answered file


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text: pydantic then parses them and names the YAML path of a bad one
    (PyYAML would raise a bare ValueError for 2026-13-01)."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _read_yaml(path: Path) -> Any:
    from .profile import load_yaml_file
    return load_yaml_file(path, "questionnaire", loader=_Loader)

def parse(doc: Any, where: str = "questionnaire") -> Questionnaire:
    if doc is None:
        raise InputError(f"{where} is empty")
    if not isinstance(doc, dict):
        raise InputError(f"{where}: the top level must be a mapping (organisation:, system:, ...)")
    try:
        return Questionnaire.model_validate(doc)
    except ValidationError as e:
        raise InputError(validation_message(e, prefix=f"{where}: ")) from None


def load(path: Path) -> Questionnaire:
    path = Path(path).expanduser()
    return parse(_read_yaml(path), f"questionnaire {path}")


_DEGREE_HELP = "use none, general, serious or particularly_serious (or a list of them when undecided)"


def validation_message(e: ValidationError, prefix: str = "") -> str:
    """One line: the first problem with its YAML path. Union branches (a degree or a list of degrees) are
    folded into one problem so the path reads as the user wrote it."""
    from .errors import yaml_path
    problems: dict[str, str] = {}
    for err in e.errors():
        raw = tuple(err.get("loc", ()))
        branch = any(isinstance(p, str) and ("[" in p or p.startswith("function-")) for p in raw)
        loc = tuple(p for p in raw if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))
        path = yaml_path(loc)
        if branch:
            field = yaml_path(tuple(p for p in loc if not isinstance(p, int)) if len(loc) and isinstance(loc[-1], int) else loc)
            key = field
            if isinstance(err.get("input"), list):
                continue  # the scalar branch's complaint about a list: the list branch says which item
            msg = f"{err.get('input')!r} is not a degree: {_DEGREE_HELP}"
        else:
            key = path
            msg = err.get("msg", "invalid value")
            if err.get("type") == "extra_forbidden":
                msg = "unknown key"
            elif err.get("type") == "missing":
                msg = "required key is missing"
        if key not in problems:
            problems[key] = f"{path}: {msg}"
    if not problems:
        return prefix + pydantic_message(e)
    first = next(iter(problems.values()))
    n = len(problems) - 1
    return f"{prefix}{first}" + (f" (and {n} more problem{'s' if n > 1 else ''})" if n else "")
