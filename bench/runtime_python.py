"""A virtual environment of another Python holding what the functions import, for
``bench/cold_start.py --python``.

The functions run on the Lambda runtime named in ``infra/constructs/lambdas.py``, newer than
the Python the project is developed and tested on, and import costs move between Python
versions (class creation, ``typing``, the import system itself). This makes
``build/bench-python-<version>/`` from the given interpreter with the layer's pinned packages
(``infra.packaging.LAYER_REQUIREMENTS``) and the same boto3 as the project's environment, and
prints its interpreter's path.

    python bench/runtime_python.py /usr/bin/python3.13
    python bench/cold_start.py --python build/bench-python-3.13.0/bin/python
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infra.packaging import LAYER_REQUIREMENTS, ROOT, python_version


def make(python: str) -> Path:
    found = python_version(python)
    target = ROOT / "build" / f"bench-python-{found}"
    interpreter = target / "bin" / "python"
    if not interpreter.exists():
        subprocess.run([python, "-m", "venv", str(target)], check=True)
    wanted = [*LAYER_REQUIREMENTS, f"boto3=={version('boto3')}"]
    subprocess.run(
        [
            str(interpreter),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *wanted,
        ],
        check=True,
    )
    return interpreter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("python", help="the interpreter to build the environment from")
    print(make(parser.parse_args().python))


if __name__ == "__main__":
    main()
