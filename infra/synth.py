"""Synthesize the app and collect what cdk-nag (and CDK itself) reported.

``python -m infra.synth`` writes ``cdk.out`` and exits non-zero while any error annotation (an
unacknowledged cdk-nag finding among them) remains, printing each with its construct path.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from infra.app import STACK_NAME, build_app
from infra.packaging import ROOT

DEFAULT_OUTDIR = ROOT / "cdk.out"


@dataclass(frozen=True)
class Finding:
    level: str
    path: str
    message: str


@dataclass(frozen=True)
class Synthesis:
    outdir: Path
    template_path: Path
    findings: tuple[Finding, ...]

    @property
    def template(self) -> dict[str, object]:
        loaded: dict[str, object] = json.loads(self.template_path.read_text())
        return loaded

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.level == "error")


def synthesize(
    outdir: Path = DEFAULT_OUTDIR, context: dict[str, object] | None = None
) -> Synthesis:
    app = build_app(outdir=str(outdir), context=context)
    app.synth()
    return read_synthesis(outdir)


def read_synthesis(outdir: Path) -> Synthesis:
    """What a synthesis left in ``outdir``: its template and what CDK and cdk-nag reported."""
    # Read the manifest as JSON: walking it through jsii objects is slow and brittle.
    manifest = json.loads((outdir / "manifest.json").read_text())
    findings: list[Finding] = []
    for artifact in manifest.get("artifacts", {}).values():
        metadata = dict(artifact.get("metadata") or {})
        # Newer CDK versions move a stack's metadata into a file of its own.
        if extra := artifact.get("additionalMetadataFile"):
            metadata.update(json.loads((outdir / extra).read_text()))
        for path, entries in metadata.items():
            for entry in entries:
                kind = entry.get("type", "")
                if kind in ("aws:cdk:error", "aws:cdk:warning"):
                    findings.append(Finding(kind.rsplit(":", 1)[1], path, str(entry.get("data"))))
    return Synthesis(
        outdir=outdir,
        template_path=outdir / f"{STACK_NAME}.template.json",
        findings=tuple(findings),
    )


def main() -> int:
    result = synthesize()
    for finding in result.findings:
        print(f"{finding.level.upper():7} {finding.path}\n        {finding.message}")
    print(
        f"synthesized {result.template_path.relative_to(ROOT)}: "
        f"{len(result.errors)} errors, {len(result.findings) - len(result.errors)} warnings"
    )
    return 1 if result.errors else 0


if __name__ == "__main__":
    sys.exit(main())
