"""Output bundle: writing (staged, then moved into place), manifest, zip, Ed25519 signature, verification."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import to_json

from . import __version__
from .errors import BundleError, InputError
from .models import Assessment, ControlResult, EvidenceRecord, Finding, Inventory, Manifest, ManifestFile, ScanSettings
from .redact import redact_strings, redact_text

_SCAN_SETTINGS = TypeAdapter(ScanSettings)
_INVENTORY = TypeAdapter(Inventory)
_FINDINGS = TypeAdapter(list[Finding])
_CONTROLS = TypeAdapter(list[ControlResult])
_ASSESSMENT = TypeAdapter(Assessment)

SIG_FILE = "manifest.sig"
ZIP_NAME = "bundle.zip"
_NOT_LISTED = {"manifest.json", SIG_FILE, ZIP_NAME}


def sha256_file(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_json(path: Path, obj: Any, *, redact: bool = True) -> None:
    """Write a JSON output file. With `redact`, each of its strings passes the text redactor (a pass over the
    serialised JSON could cut through its escaping): for files built from another bundle's files (`check`,
    `merge`). A scan's derived files are built only from the evidence it redacted as it recorded it, and
    skip the pass (tests/test_secret_placements.py shows every output clean without it)."""
    if redact:
        if isinstance(obj, BaseModel):
            obj = obj.model_dump(mode="json")
        elif isinstance(obj, list) and obj and isinstance(obj[0], BaseModel):
            obj = [o.model_dump(mode="json") for o in obj]
        obj, _ = redact_strings(obj)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(to_json(obj, indent=1, fallback=str) + b"\n")


def write_text(path: Path, text: str, *, redact: bool = True) -> None:
    """Write a text output file (the report); with `redact` (see write_json) it passes the redactor once more."""
    if redact:
        text, _ = redact_text(text)
    _write(path, text)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@contextmanager
def staged_output(out: Path, force: bool = False) -> Iterator[Path]:
    """Yield a staging folder beside `out`; move it into place only when the block succeeds, so a failed
    or interrupted run leaves nothing half-written. An existing `out` is replaced only if it is empty or
    an earlier bundle (has manifest.json), or with force."""
    out = Path(out).expanduser().absolute()
    try:
        if out.exists():
            if not out.is_dir():
                raise InputError(f"--out {out} exists and is not a folder")
            if any(out.iterdir()) and not (out / "manifest.json").exists() and not force:
                raise InputError(f"--out {out} is a non-empty folder that is not an mlps-scan bundle; choose another or pass --force")
        out.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    except OSError as e:  # /proc, a read-only file system, /dev/null/x, no permission...
        raise InputError(f"--out {out}: cannot write there ({e.strerror or e})") from None
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    old = None
    try:
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            os.rename(out, old)
        os.rename(stage, out)
        os.chmod(out, 0o755)
    except OSError as e:  # put back what was there; leave nothing half-written
        shutil.rmtree(stage, ignore_errors=True)
        if old is not None and old.exists() and not out.exists():
            os.rename(old, out)
        raise InputError(f"--out {out}: cannot write there ({e.strerror or e})") from None
    if old:
        shutil.rmtree(old, ignore_errors=True)


def list_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.relative_to(root).as_posix() not in _NOT_LISTED)


def write_manifest(root: Path, manifest_fields: dict[str, Any], sign_key: Path | None = None) -> Manifest:
    """manifest.json (and run.json: the run's times, scope and API-call counts, hashed like every file, so
    verify can hold the manifest's own fields against it; see crosscheck.py)."""
    from .crosscheck import RUN_FILE, run_facts
    _write(root / RUN_FILE, json.dumps(run_facts(manifest_fields), indent=1) + "\n")
    files = [ManifestFile(path=p.relative_to(root).as_posix(), size=p.stat().st_size, sha256=sha256_file(p))
             for p in list_files(root)]
    signature = None
    priv = None
    if sign_key:
        priv = load_private_key(sign_key)
        signature = {"algorithm": "Ed25519", "file": SIG_FILE, "public_key": base64.b64encode(_raw_public(priv)).decode(),
                     "key_fingerprint": key_fingerprint(priv)}
    m = Manifest(tool_version=__version__, files=files, signature=signature, **manifest_fields)
    data = (m.model_dump_json(indent=1) + "\n").encode()
    (root / "manifest.json").write_bytes(data)
    if priv is not None:
        (root / SIG_FILE).write_text(base64.b64encode(priv.sign(data)).decode() + "\n")
    return m


def make_zip(root: Path) -> Path:
    """bundle.zip beside the files: everything of the folder (manifest and signature included)."""
    zpath = root / ZIP_NAME
    tmp = root / (ZIP_NAME + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(root.rglob("*")):
            rel = p.relative_to(root).as_posix()
            if p.is_file() and rel not in (ZIP_NAME, ZIP_NAME + ".tmp"):
                z.write(p, rel)
    tmp.replace(zpath)
    return zpath


def _raw_public(priv) -> bytes:
    from cryptography.hazmat.primitives import serialization
    return priv.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_fingerprint(priv) -> str:
    """The short fingerprint a manifest names its signing key by: sha256 of the raw public key, 16 hex digits."""
    return hashlib.sha256(_raw_public(priv)).hexdigest()[:16]


def load_private_key(path: Path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    p = Path(path).expanduser()
    if not p.is_file():
        raise InputError(f"--sign-key not found: {p}")
    from .loaders import read_bytes
    try:
        key = serialization.load_pem_private_key(read_bytes(p, "--sign-key", limit=1 << 20), password=None)
    except (ValueError, TypeError) as e:
        raise InputError(f"--sign-key {p}: not an unencrypted PEM private key ({e})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"--sign-key {p}: not an Ed25519 key")
    return key


# --------------------------------------------------------------------------- reading and verifying


def _check_member_name(zpath: Path, name: str) -> None:
    """A member name must be a plain relative path: no absolute path, drive, backslash or `..`, so nothing
    read from the zip can be written outside the folder it is extracted to."""
    parts = name.split("/")
    if (name.startswith("/") or "\\" in name or "\x00" in name or (len(name) > 1 and name[1] == ":")
            or any(part in ("", ".", "..") for part in parts)):
        raise InputError(f"{zpath}: unsafe member name in zip: {name!r}")


def open_bundle(path: Path) -> "BundleReader":
    """A bundle folder or zip, or an output folder holding one (e.g. out/ with bundle.zip only)."""
    p = Path(path).expanduser()
    if p.is_dir() and not (p / "manifest.json").exists() and (p / ZIP_NAME).is_file():
        p = p / ZIP_NAME
    return BundleReader(p)


class BundleReader:
    """A bundle as a folder or a zip, read the same way: its files as bytes or JSON, and its JSON files as
    the models they are (manifest, inventory, findings, controls, scan settings), a malformed one being a
    BundleError that names it."""

    def __init__(self, path: Path):
        self.path = Path(path).expanduser()
        if not self.path.exists():
            raise InputError(f"bundle not found: {self.path}")
        self._zip = None
        if self.path.is_file():
            if not zipfile.is_zipfile(self.path):
                raise InputError(f"{self.path} is neither a bundle folder nor a zip")
            try:
                self._zip = zipfile.ZipFile(self.path)
            except (zipfile.BadZipFile, OSError) as e:
                raise InputError(f"{self.path}: unreadable zip ({e})") from None
            names = [n for n in self._zip.namelist() if not n.endswith("/")]
            for info in self._zip.infolist():
                _check_member_name(self.path, info.filename)
                if stat.S_ISLNK(info.external_attr >> 16):
                    raise InputError(f"{self.path}: {info.filename!r} is a symbolic link; a bundle holds only plain files")
            if len(set(names)) != len(names):
                raise InputError(f"{self.path}: the zip holds two members of the same name")
            tops = {n.split("/", 1)[0] for n in names}
            self._prefix = (tops.pop() + "/") if len(tops) == 1 and all("/" in n for n in names) else ""
            self._names = sorted(n[len(self._prefix):] for n in names)
        else:
            for p in self.path.rglob("*"):
                if p.is_symlink():
                    raise InputError(f"{self.path}: {p.relative_to(self.path).as_posix()} is a symbolic link; "
                                     "a bundle holds only plain files")
            self._names = sorted(p.relative_to(self.path).as_posix() for p in self.path.rglob("*") if p.is_file())
            # the zip that sits beside the files is a copy of the folder, checked on its own by verify
            self._names = [n for n in self._names if n != ZIP_NAME]
        if "manifest.json" not in self._names:
            raise InputError(f"{self.path} is not an mlps-scan bundle (no manifest.json)")

    def names(self) -> list[str]:
        return list(self._names)

    def read(self, name: str) -> bytes:
        """A member's bytes; a member larger than the input size limit (loaders.max_input_bytes) is not read."""
        from .loaders import max_input_bytes, read_bytes
        limit = max_input_bytes()
        if self._zip is not None:
            try:
                info = self._zip.getinfo(self._prefix + name)
                if info.file_size > limit:
                    raise BundleError(f"{self.path}: {name}: zip member larger than {limit >> 20} MiB "
                                      f"({info.file_size >> 20} MiB uncompressed); MLPS_SCAN_MAX_INPUT_MB raises the limit")
                with self._zip.open(info) as f:
                    data = f.read(limit + 1)
                if len(data) > limit:
                    raise BundleError(f"{self.path}: {name}: zip member larger than {limit >> 20} MiB")
                return data
            except BundleError:
                raise
            except KeyError:
                raise
            except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError,
                    zlib.error, EOFError, ValueError, MemoryError) as e:
                raise BundleError(f"{self.path}: {name}: unreadable zip member ({type(e).__name__}: {e})") from None
        p = self.path / name
        if not p.exists():
            raise FileNotFoundError(p)
        try:
            return read_bytes(p, "bundle file", limit=limit)
        except InputError as e:
            raise BundleError(str(e)) from None

    def json(self, name: str) -> Any:
        from .loaders import parse_json
        try:
            return parse_json(self.read(name), f"{self.path}: {name} is not valid JSON")
        except KeyError:
            raise BundleError(f"{self.path}: {name} missing from the bundle") from None
        except FileNotFoundError:
            raise BundleError(f"{self.path}: {name} missing from the bundle") from None
        except InputError as e:
            raise BundleError(str(e)) from None

    def _model(self, name: str, adapter: TypeAdapter, what: str):
        try:
            return adapter.validate_python(self.json(name))
        except ValidationError as e:
            raise BundleError(f"{self.path}: {name} is not {what}: {str(e).splitlines()[0]}") from None

    def manifest(self) -> Manifest:
        try:
            return Manifest.model_validate(self.json("manifest.json"))
        except BundleError:
            raise
        except Exception as e:
            raise BundleError(f"{self.path}: manifest.json is not a valid manifest: {str(e).splitlines()[0]}") from None

    def manifest_sha256(self) -> str:
        """The SHA-256 of manifest.json: what names this bundle (history, questionnaire prefill)."""
        return hashlib.sha256(self.read("manifest.json")).hexdigest()

    def scan_settings(self) -> ScanSettings:
        """scan.json (system, level, profile, effective config); empty settings for a bundle without one."""
        if "scan.json" not in self._names:
            return ScanSettings()
        return self._model("scan.json", _SCAN_SETTINGS, "valid scan settings")

    def inventory(self) -> Inventory:
        return self._model("inventory.json", _INVENTORY, "a valid inventory")

    def findings(self) -> list[Finding]:
        return self._model("findings.json", _FINDINGS, "a valid list of findings")

    def controls(self) -> list[ControlResult]:
        return self._model("controls.json", _CONTROLS, "a valid list of control results")

    def assessment(self) -> Assessment | None:
        """assessment.json, or None for a bundle without one (made by `collect`, or an older version)."""
        if "assessment.json" not in self._names:
            return None
        return self._model("assessment.json", _ASSESSMENT, "a valid assessment")

    def evidence_records(self) -> Iterator[EvidenceRecord]:
        """Every evidence record of the bundle, in name order, one at a time."""
        for name in self._names:
            if not (name.startswith("evidence/") and name.endswith(".json")):
                continue
            try:
                yield EvidenceRecord.model_validate_json(self.read(name))
            except ValueError as e:
                raise BundleError(f"{self.path}: {name} is not an evidence record ({str(e).splitlines()[0]})") from None

    def has(self, name: str) -> bool:
        return name in self._names

    @property
    def is_zip(self) -> bool:
        return self._zip is not None

    @property
    def sibling_zip(self) -> Path | None:
        """The bundle.zip written beside a folder bundle, if there is one."""
        if self._zip is None and (self.path / ZIP_NAME).is_file():
            return self.path / ZIP_NAME
        return None

    def extract_to(self, dest: Path) -> None:
        root = Path(dest).resolve()
        for n in self._names:
            p = (root / n).resolve()
            if not p.is_relative_to(root):  # names are checked on open; this is the belt to those braces
                raise InputError(f"{self.path}: member {n!r} would be written outside {root}")
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(self.read(n))


@dataclass
class Verification:
    """What `verify` found: problems (empty = intact) and whether, and by which key, the bundle is signed."""

    problems: list[str]
    signed: bool = False
    key_fingerprint: str | None = None
    zip_sha256: str | None = None  # of the bundle.zip file itself (compare it out of band)


_SLIM = ("id", "collector", "target", "source", "status", "error", "request")  # what the cross-checks read


def verify_bundle(path: Path, public_key: Path | None = None, _answers_seen: dict | None = None) -> list[str]:
    """Return a list of problems (empty = the bundle is intact)."""
    return verify(path, public_key, _answers_seen).problems


def verify(path: Path, public_key: Path | None = None, _answers_seen: dict | None = None) -> Verification:
    """`_answers_seen` (evidence file -> (sha256 of its bytes, the record without its answer)): records whose
    answer hash was checked already (the folder's, when its sibling bundle.zip is verified): the same bytes
    are not parsed again."""
    b = BundleReader(path)
    problems: list[str] = []
    answer_problems: list[str] = []
    answers_ok: dict[str, tuple[str, dict]] = {}  # evidence file -> (sha256 of its bytes, record sans answer)
    m = b.manifest()
    listed = {f.path: f for f in m.files}
    from .evidence import answer_sha256
    from .loaders import parse_json
    records: list[dict] = []
    for name in b.names():
        # a zip never holds a bundle.zip of its own: one found there is an unlisted file like any other
        if name in _NOT_LISTED and not (b.is_zip and name == ZIP_NAME):
            continue
        if name not in listed:
            problems.append(f"file not in manifest: {name}")
            continue
        try:
            data = b.read(name)  # one file at a time: a large bundle is never held whole
        except BundleError as e:
            problems.append(f"unreadable: {name}: {e}")
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest != listed[name].sha256:
            problems.append(f"sha256 mismatch: {name}")
        elif len(data) != listed[name].size:
            problems.append(f"size mismatch: {name}")
        # evidence records carry the hash of their own answer: recompute it too (once for the same bytes:
        # the sibling zip's copy of a file already checked in the folder is not parsed again)
        if name.startswith("evidence/") and name.endswith(".json"):
            seen = (_answers_seen or {}).get(name)
            if seen is not None and seen[0] == digest:
                records.append(seen[1])
                continue
            try:
                rec = parse_json(data, name)
            except InputError:
                answer_problems.append(f"evidence record is not JSON: {name}")
                continue
            del data
            if not isinstance(rec, dict):
                answer_problems.append(f"evidence record is not a JSON object: {name}")
                continue
            slim = {k: rec.get(k) for k in _SLIM}  # not the answer: a large bundle is never held whole
            records.append(slim)
            if answer_sha256(rec.get("answer")) != rec.get("sha256"):
                answer_problems.append(f"evidence answer hash mismatch: {name}")
            else:
                answers_ok[name] = (digest, slim)
    present = set(b.names())
    for name in listed:
        if name not in present:
            problems.append(f"file listed in manifest but missing: {name}")
    problems.extend(answer_problems)
    from .crosscheck import manifest_problems
    problems.extend(manifest_problems(b, m, records))
    sig_present = SIG_FILE in b.names()
    if m.signature or sig_present or public_key:
        problems.extend(_verify_signature(b, m, public_key))
    zip_sha = sha256_file(b.path) if b.is_zip else None
    if b.sibling_zip is not None:
        problems.extend(_verify_sibling_zip(b, public_key, answers_ok))
        zip_sha = sha256_file(b.sibling_zip)
    signed = bool(m.signature) and sig_present
    return Verification(problems, signed, (m.signature or {}).get("key_fingerprint") if signed else None, zip_sha)


def require_intact(path: Path) -> None:
    """Refuse to re-evaluate (and re-sign) a bundle that does not verify: the new bundle would otherwise
    lend a fresh manifest, and a fresh signature, to changed evidence."""
    problems = verify_bundle(path)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InputError(f"{path} fails verification: {problems[0]}{more}; run `mlps-scan verify {path}`")


def _verify_sibling_zip(b: BundleReader, public_key: Path | None, answers_ok: dict | None = None) -> list[str]:
    """The bundle.zip beside a folder is what gets attached and sent on: it must be intact on its own and
    carry the same manifest as the folder."""
    try:
        zb = BundleReader(b.sibling_zip)
        if zb.read("manifest.json") != b.read("manifest.json"):
            return [f"{ZIP_NAME}: its manifest.json differs from the folder's"]
        return [f"{ZIP_NAME}: {p}" for p in verify_bundle(b.sibling_zip, public_key, answers_ok)]
    except (InputError, BundleError) as e:
        return [f"{ZIP_NAME}: {e}"]


def _verify_signature(b: BundleReader, m: Manifest, public_key: Path | None) -> list[str]:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    if SIG_FILE not in b.names():
        return ["signature expected but manifest.sig is missing"]
    if not m.signature:
        return ["manifest.sig present but the manifest names no signing key"]
    try:
        sig = base64.b64decode(b.read(SIG_FILE).strip(), validate=True)
    except ValueError:
        return ["manifest.sig is not base64"]
    except BundleError as e:
        return [f"manifest.sig: {e}"]
    if public_key:
        from .loaders import read_bytes
        p = Path(public_key).expanduser()
        try:
            pub = serialization.load_pem_public_key(read_bytes(p, "--public-key", limit=1 << 20))
        except (ValueError, TypeError) as e:
            raise InputError(f"--public-key {p}: not a PEM public key ({e})") from None
        if not isinstance(pub, Ed25519PublicKey):
            raise InputError(f"--public-key {p}: not an Ed25519 key")
        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        if base64.b64encode(raw).decode() != m.signature.get("public_key"):
            return ["bundle was signed with a different key than --public-key"]
    else:
        try:
            pub = Ed25519PublicKey.from_public_bytes(base64.b64decode(str(m.signature.get("public_key") or ""),
                                                                      validate=True))
        except ValueError:
            return ["the manifest's signature.public_key is not a base64 Ed25519 public key"]
    try:
        pub.verify(sig, b.read("manifest.json"))
    except (InvalidSignature, ValueError):
        return ["Ed25519 signature does not match manifest.json"]
    return []
