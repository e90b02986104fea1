"""Lambda assets built without Docker.

The code asset is a plain copy of the packages Lambda imports; the dependency layer is made by
pip with ``--platform``/``--only-binary`` so it carries the Lambda platform's wheels whatever
machine builds it. Both are cached under ``build/`` and rebuilt only when their inputs change.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "lambda"

# Lambda runtime the functions run on; the layer's wheels must match it.
LAMBDA_PYTHON = "3.14"
LAMBDA_PLATFORM = "manylinux2014_aarch64"

# What the functions import beyond the Python runtime's own boto3. Kept apart from
# pyproject's list on purpose: the layer has no boto3 (the runtime provides it) and needs the
# X-Ray SDK for Powertools' tracer.
LAYER_REQUIREMENTS = (
    "aws-lambda-powertools[tracer]==3.37.0",
    "pydantic==2.14.3",
    "stripe==16.1.0",
    "jinja2==3.1.6",
    "babel==2.18.0",
    "common-expression-language==0.10.0",
    "disposable-email-domains==0.0.293",
    "iptocc==3.3.170",
    "pyyaml==6.0.3",
    "lxml==6.1.3",
    "bai2==0.15.0",
    "phonenumbers==9.0.43",
)

CODE_PACKAGES = ("functions", "shared")


def _ignore(_dir: str, names: list[str]) -> set[str]:
    return {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".pyo"))}


def build_code_asset() -> Path:
    """Copy the packages Lambda imports into a clean directory and return it."""
    target = BUILD / "code"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for package in CODE_PACKAGES:
        shutil.copytree(ROOT / package, target / package, ignore=_ignore)
    return target


def tree_digest(directory: Path) -> str:
    """A short content hash of a directory: the code version functions report."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(path.relative_to(directory).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _layer_stamp() -> str:
    text = "\n".join((LAMBDA_PYTHON, LAMBDA_PLATFORM, *LAYER_REQUIREMENTS))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def build_dependency_layer() -> Path:
    """Install the runtime dependencies for the Lambda platform; reuse the last build if current."""
    target = BUILD / "layer"
    stamp_file = BUILD / "layer.stamp"
    stamp = _layer_stamp()
    if (target / "python").is_dir() and stamp_file.is_file() and stamp_file.read_text() == stamp:
        return target
    if target.exists():
        shutil.rmtree(target)
    site = target / "python"
    site.mkdir(parents=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--platform",
        LAMBDA_PLATFORM,
        "--implementation",
        "cp",
        "--python-version",
        LAMBDA_PYTHON,
        "--only-binary=:all:",
        "--target",
        str(site),
        *LAYER_REQUIREMENTS,
    ]
    subprocess.run(command, check=True)  # noqa: S603 - fixed argument list, no shell
    # Lambda's runtime already has these; shipping them only grows the layer.
    for extra in ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil"):
        for path in site.glob(f"{extra}*"):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    stamp_file.write_text(stamp)
    return target
