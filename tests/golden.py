"""The stored copy of the built-in sample's derived outputs, and how a scan is normalised to compare with it.

Times and the paths of the machine that ran the scan are the only things taken out; everything else
(findings, control statuses, inventory, the questionnaire's prefill, the assessment) must stay byte-for-byte
the same unless a change means to alter it, in which case `scripts/update-golden` rewrites the copy and the
diff shows what changed.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "data" / "golden" / "acme-shop"
# files compared as written by the scan (they hold no times), then files with times/paths normalised
FILES = ("findings.json", "controls.json", "inventory.json", "scan.json", "assessment.json")
_TIMES = re.compile(r"(generated_at|scanned_at|manifest_sha256|bundle): .*")


def questionnaire_text(bundle: Path) -> str:
    """The questionnaire prefilled from the bundle, with its times, bundle path and manifest hash masked."""
    r = subprocess.run([sys.executable, "-m", "mlps_scan", "questionnaire", str(bundle), "-o", "-"],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"questionnaire failed: {r.stderr.strip()}")
    text = re.sub(r"prefilled_from: \{[^}]*\}", "prefilled_from: {...}", r.stdout)
    return _TIMES.sub(lambda m: f"{m.group(1)}: ...", text)


def outputs(bundle: Path) -> dict[str, str]:
    out = {name: (bundle / name).read_text(encoding="utf-8") for name in FILES if (bundle / name).exists()}
    out["questionnaire.yaml"] = questionnaire_text(bundle)
    return out


def write(bundle: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.iterdir():
        old.unlink()
    for name, text in outputs(bundle).items():
        (dest / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    write(Path(sys.argv[1]), Path(sys.argv[2]))
