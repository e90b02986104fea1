"""Lambda assets built without Docker.

The code asset is a plain copy of the packages Lambda imports; the dependency layer is made by
pip with ``--platform``/``--only-binary`` so it carries the Lambda platform's wheels whatever
machine builds it. Both are cached under ``build/`` and rebuilt only when their inputs change.
"""

from __future__ import annotations

import hashlib
import os
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

# Where Lambda puts the code asset and the layer's packages: the paths compiled modules name,
# so a traceback in Lambda points at the file Lambda has.
CODE_MOUNT = "/var/task"
LAYER_MOUNT = "/opt/python"

# An interpreter of the runtime's Python version to compile the assets' bytecode with (below).
BUILD_PYTHON_ENV = "LAMBDA_BUILD_PYTHON"


class WrongPython(ValueError):
    pass


def python_version(python: str) -> str:
    """The version of the interpreter at ``python``, in full (``3.14.0``)."""
    return subprocess.run(  # noqa: S603 - the interpreter asked for, fixed arguments
        [python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def _feature_version(python: str) -> str:
    """``3.14`` of ``3.14.0``: what bytecode and the Lambda runtime are tied to."""
    return ".".join(python_version(python).split(".")[:2])


def runtime_python() -> str | None:
    """An interpreter of the functions' Python (``LAMBDA_PYTHON``) to write their bytecode, or
    None when this machine has none.

    Lambda's ``/var/task`` and ``/opt`` are read-only: a module shipped without bytecode for the
    runtime's version is compiled from source in every cold start, and never cached. Bytecode is
    tied to the Python version that wrote it, so only an interpreter of that version can write
    it: ``LAMBDA_BUILD_PYTHON`` if set (refused if it is another version), else
    ``python<version>`` on the PATH.
    """
    chosen = os.environ.get(BUILD_PYTHON_ENV)
    if chosen:
        found = _feature_version(chosen)
        if found != LAMBDA_PYTHON:
            raise WrongPython(
                f"{BUILD_PYTHON_ENV}={chosen} is Python {found}; the functions run on "
                f"Python {LAMBDA_PYTHON}, and bytecode only loads in the version that wrote it"
            )
        return chosen
    on_path = shutil.which(f"python{LAMBDA_PYTHON}")
    if on_path is None:
        return None
    try:
        found = _feature_version(on_path)
    except (OSError, subprocess.CalledProcessError):
        return None  # a launcher that has no such interpreter behind it (pyenv's shims)
    return on_path if found == LAMBDA_PYTHON else None


def compile_bytecode(directory: Path, mounted_at: str, python: str) -> None:
    """Write ``python``'s bytecode beside every module under ``directory``, naming each file as
    Lambda will mount it (``mounted_at``). Hash-based and unchecked: nothing in the read-only
    mount can change under it, so Python never compares the source's time with it, nor reads
    and hashes the source.

    A module that does not compile is left to compile at import, as without this step (a
    package may carry files for other versions it never imports); those files are printed."""
    done = subprocess.run(  # noqa: S603 - the runtime's interpreter, fixed arguments
        [
            python,
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            "-s",
            str(directory),
            "-p",
            mounted_at,
            str(directory),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print(f"not compiled, left to compile at import:\n{done.stdout}{done.stderr}")


def _ignore(_dir: str, names: list[str]) -> set[str]:
    return {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".pyo"))}


def build_code_asset(python: str | None = None) -> Path:
    """Copy the packages Lambda imports into a clean directory, with ``python``'s bytecode when
    given (``runtime_python``), and return it."""
    target = BUILD / "code"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for package in CODE_PACKAGES:
        shutil.copytree(ROOT / package, target / package, ignore=_ignore)
    if python:
        compile_bytecode(target, CODE_MOUNT, python)
    return target


def tree_digest(directory: Path) -> str:
    """A short content hash of a directory: the code version functions report."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(path.relative_to(directory).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _layer_stamp(python: str | None) -> str:
    # ``python`` comes from ``runtime_python``: its version is LAMBDA_PYTHON, already stamped.
    bytecode = "with bytecode" if python else "source only"
    text = "\n".join((LAMBDA_PYTHON, LAMBDA_PLATFORM, bytecode, *LAYER_REQUIREMENTS))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def build_dependency_layer(python: str | None = None) -> Path:
    """Install the runtime dependencies for the Lambda platform, with ``python``'s bytecode
    when given (``runtime_python``); reuse the last build if current."""
    target = BUILD / "layer"
    stamp_file = BUILD / "layer.stamp"
    stamp = _layer_stamp(python)
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
    # pip compiles nothing here (--no-compile): it runs on this machine's Python, whose
    # bytecode the runtime could not load.
    if python:
        compile_bytecode(site, LAYER_MOUNT, python)
    stamp_file.write_text(stamp)
    return target
