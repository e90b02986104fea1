"""``ecomops``: the operator's command line, grouped by domain."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import click

from cli.toolchain import ROOT, use_project_node

DEFAULT_PORT = 8787


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Ecom OPS: the serverless back office for e-commerce operations."""


# -- stack ------------------------------------------------------------------------------------


@main.group()
def stack() -> None:
    """Synthesize and check the CDK stack."""


@stack.command("synth")
@click.option(
    "--out",
    "outdir",
    type=click.Path(path_type=Path),
    default=ROOT / "cdk.out",
    show_default=True,
    help="Cloud assembly directory.",
)
def stack_synth(outdir: Path) -> None:
    """Synthesize the template (no Docker, no AWS) and run cdk-nag's AwsSolutions pack."""
    use_project_node()
    from infra.synth import synthesize

    result = synthesize(outdir)
    for finding in result.findings:
        click.echo(f"{finding.level.upper():7} {finding.path}\n        {finding.message}")
    click.echo(f"synthesized {result.template_path}: {len(result.errors)} errors")
    if result.errors:
        sys.exit(1)


# -- local ------------------------------------------------------------------------------------


@main.group()
def local() -> None:
    """Run the stack on this machine: moto in-process, no Docker, no AWS account."""


def start_local_stack(port: int, *, synth: bool, verbose: bool, cdk_out: Path | None = None) -> Any:
    use_project_node()
    from infra.synth import DEFAULT_OUTDIR, synthesize
    from local.stack import LocalStack

    outdir = cdk_out or DEFAULT_OUTDIR
    if synth or not (outdir / "manifest.json").exists():
        result = synthesize(outdir)
        if result.errors:
            raise click.ClickException(
                f"synth reported {len(result.errors)} errors; run `ecomops stack synth`"
            )
    return LocalStack(outdir, port=port, log_level="INFO" if verbose else "WARNING").start()


@local.command("up")
@click.option("--port", default=DEFAULT_PORT, show_default=True, help="Port of the HTTP API.")
@click.option("--no-synth", is_flag=True, help="Deploy the existing cdk.out without synthesizing.")
@click.option(
    "--cdk-out",
    type=click.Path(path_type=Path),
    default=None,
    help="Cloud assembly to deploy (default: cdk.out).",
)
@click.option("-v", "--verbose", is_flag=True, help="Show the functions' INFO logs.")
def local_up(port: int, no_synth: bool, cdk_out: Path | None, verbose: bool) -> None:
    """Synthesize, deploy into moto and serve the HTTP API until Ctrl-C or SIGTERM."""
    running = start_local_stack(port, synth=not no_synth, verbose=verbose, cdk_out=cdk_out)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(f"moto endpoint {running.endpoint} (AWS_ENDPOINT_URL for other processes)")
    click.echo(f"ready {running.base_url}", err=False)
    sys.stdout.flush()
    stop.wait()
    click.echo("stopping")
    running.stop()


def _admin(url: str, path: str, method: str = "GET") -> Any:
    if not url.startswith(("http://", "https://")):
        raise click.BadParameter(f"{url!r} is not an http(s) URL", param_hint="--url")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url.rstrip("/") + path, method=method, data=b"" if method == "POST" else None
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback URL
            return json.loads(answer.read())
    except urllib.error.HTTPError as error:
        raise click.ClickException(json.loads(error.read()).get("message", str(error))) from error
    except urllib.error.URLError as error:
        raise click.ClickException(f"no local stack at {url}: {error.reason}") from error


@local.command("fire")
@click.argument("rule")
@click.option("--url", default=f"http://127.0.0.1:{DEFAULT_PORT}", show_default=True)
def local_fire(rule: str, url: str) -> None:
    """Fire the schedule RULE (its logical id) on a running local stack, as EventBridge would."""
    answer = _admin(url, f"/_local/fire/{rule}", "POST")
    for started in answer["started"]:
        click.echo(f"started {started}")


@local.command("status")
@click.option("--url", default=f"http://127.0.0.1:{DEFAULT_PORT}", show_default=True)
def local_status(url: str) -> None:
    """Show a running local stack's routes, schedules and outputs."""
    click.echo(json.dumps(_admin(url, "/_local/status"), indent=2))


# -- demo -------------------------------------------------------------------------------------


@main.command()
@click.option(
    "--out",
    "outdir",
    type=click.Path(path_type=Path),
    default=ROOT / ".demo",
    show_default=True,
    help="Where the demo writes what it produced.",
)
@click.option("--port", default=0, help="HTTP port (0: any free port).")
def demo(outdir: Path, port: int) -> None:
    """Start the local stack, drive it, and print what happened and where the outputs are."""
    from local.demo import run_demo

    started = time.monotonic()
    ok = run_demo(outdir, port=port, echo=click.echo, start=start_local_stack)
    click.echo(
        f"demo {'finished' if ok else 'FAILED'} in {time.monotonic() - started:.1f}s; "
        f"outputs in {outdir}"
    )
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
