"""Screenshot the e-mails of the demo's payout cycle with headless Chromium: the summary report
to finance, the instruction to finance and one vendor's statement, as the local stack sent them.

    make demo     # writes .demo/payout-emails/*.eml
    .venv/bin/python scripts/screenshot_payouts.py [--emails .demo/payout-emails] [--out docs]

Writes ``payouts-summary.png``, ``payouts-instruction.png`` and ``payouts-statement.png``
(the vendor with the largest statement). Needs Debian's ``chromium`` package.
"""

from __future__ import annotations

import argparse
import sys
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from screenshot_emails import CHROMIUM, find_chromium, shoot  # noqa: E402

SHOTS = {
    "payout_report": "payouts-summary.png",
    "payout_instruction": "payouts-instruction.png",
    "vendor_statement": "payouts-statement.png",
}


def html_of(path: Path) -> str:
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert isinstance(message, EmailMessage)
    part = message.get_body(preferencelist=("html",))
    if part is None:
        raise ValueError(f"{path.name} has no HTML part")
    return str(part.get_content())


def pick(emails: Path) -> dict[str, Path]:
    """Per kind the e-mail to show: the only one, or the longest statement (most entries)."""
    chosen: dict[str, Path] = {}
    for path in sorted(emails.glob("*.eml")):
        kind = path.name.split("-")[0]
        if kind not in SHOTS:
            continue
        if kind not in chosen or path.stat().st_size > chosen[kind].stat().st_size:
            chosen[kind] = path
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=Path, default=ROOT / ".demo" / "payout-emails")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--chromium", type=Path, default=CHROMIUM)
    args = parser.parse_args(argv)
    chromium = find_chromium(args.chromium)
    if chromium is None:
        return 2
    chosen = pick(args.emails)
    missing = sorted(set(SHOTS) - set(chosen))
    if missing:
        print(f"no {', '.join(missing)} e-mail in {args.emails}: run `make demo`", file=sys.stderr)
        return 1
    for kind, path in chosen.items():
        png = args.out / SHOTS[kind]
        height = shoot(chromium, html_of(path), png)
        print(f"{png} ({height}px tall) from {path.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
