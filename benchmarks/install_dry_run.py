"""What ``make demo`` would download on a machine that sees only the public indexes.

pip runs with ``--dry-run --report`` under ``PIP_CONFIG_FILE=/dev/null`` and without
``PIP_FIND_LINKS``/``PIP_INDEX_URL``/``PIP_EXTRA_INDEX_URL``, so no local wheel folder,
mirror or constraint of this machine takes part. Four resolutions:

1. ``torch==X`` from PyPI, as plain pip does it (what ``make demo`` used to install);
2. ``torch==X+cpu`` from PyPI alone: must find nothing, so the Makefile's pin can never fall
   back to the CUDA build silently;
3. ``torch==X+cpu`` from PyTorch's CPU index (the Makefile's first step);
4. the package itself (``.``) from PyPI, for the size of everything besides torch.

Download sizes come from ``HEAD`` requests on the URLs in pip's reports. Prints markdown;
``--append`` adds it to benchmarks/RESULTS.md.

Usage: ``.venv/bin/python -m benchmarks.install_dry_run [--append]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TORCH_VERSION = "2.13.0"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
_GPU_PACKAGES = ("nvidia-", "cuda-", "triton")


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull  # no global, user or site pip.conf at all
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _dry_run(args: list[str], folder: Path, name: str) -> tuple[int, str, list[dict]]:
    report = folder / f"{name}.json"
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed"]
    command += ["--report", str(report), "--retries", "1", "--timeout", "15", *args]
    result = subprocess.run(command, capture_output=True, text=True, env=_clean_env(), cwd=ROOT)
    installs = json.loads(report.read_text())["install"] if report.exists() else []
    return result.returncode, (result.stdout + result.stderr).strip(), installs


def _size(url: str) -> int | None:
    if not url.startswith("http"):
        return None
    request = urllib.request.Request(url, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.headers.get("Content-Length", 0)) or None
    except OSError:
        return None


def _summary(installs: list[dict]) -> tuple[int, float, list[str]]:
    sizes = [_size(item["download_info"]["url"]) for item in installs]
    names = sorted(f"{i['metadata']['name']} {i['metadata']['version']}" for i in installs)
    return len(installs), sum(s or 0 for s in sizes) / 1e6, names


def _last_line(text: str) -> str:
    """The line that says why: a network failure if there was one, else pip's last word."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    network = [line for line in lines if "Failed to resolve" in line or "connection" in line]
    if network:
        return network[-1][-160:] + " ... " + lines[-1]
    return lines[-1] if lines else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--append", action="store_true")
    args = parser.parse_args(argv)
    config = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"],
        capture_output=True,
        text=True,
        env=_clean_env(),
    ).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        plain = _dry_run([f"torch=={TORCH_VERSION}"], folder, "plain")
        pinned_pypi = _dry_run([f"torch=={TORCH_VERSION}+cpu"], folder, "pinned")
        cpu_index = _dry_run(
            ["--no-deps", "--index-url", CPU_INDEX, f"torch=={TORCH_VERSION}+cpu"], folder, "cpu"
        )
        project = _dry_run(["."], folder, "project")

    count, megabytes, names = _summary(plain[2])
    gpu = [name for name in names if name.startswith(_GPU_PACKAGES)]
    rest = [i for i in project[2] if not i["metadata"]["name"].startswith(_GPU_PACKAGES)]
    rest = [i for i in rest if i["metadata"]["name"] not in ("torch", "forecast")]
    rest_count, rest_mb, _ = _summary(rest)
    lines = [
        f"## Installing torch: what a clean pip resolves, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        "- `python -m benchmarks.install_dry_run`: `pip install --dry-run --report` with "
        "`PIP_CONFIG_FILE=/dev/null` and no `PIP_*` variables; "
        f"`pip config list` then shows: `{'; '.join(config.splitlines()) or 'nothing'}`.",
        f"- Plain `pip install torch=={TORCH_VERSION}` (PyPI; what `make demo` used to run): "
        f"exit {plain[0]}, {count} packages, {megabytes:,.0f} MB to download, of which "
        f"{len(gpu)} CUDA/NVIDIA/triton packages: {', '.join(gpu) or 'none'}.",
        f"- `torch=={TORCH_VERSION}+cpu` from PyPI alone: exit {pinned_pypi[0]} "
        f"(`{_last_line(pinned_pypi[1])}`): PyPI cannot satisfy the Makefile's pin, so it "
        "never falls back to the CUDA build.",
        f"- `torch=={TORCH_VERSION}+cpu` from {CPU_INDEX} (the Makefile's first step): exit "
        f"{cpu_index[0]}, resolved {[i['download_info']['url'] for i in cpu_index[2]] or 'nothing'}"
        f" (`{_last_line(cpu_index[1])[:200]}`).",
        f"- Everything else `pip install .` needs from PyPI: {rest_count} packages, "
        f"{rest_mb:,.0f} MB to download.",
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    if args.append:
        with open(ROOT / "benchmarks" / "RESULTS.md", "a", encoding="utf-8") as handle:
            handle.write("\n" + report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
