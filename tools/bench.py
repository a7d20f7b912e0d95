"""Benchmark of tap_trading_failover against the local AWS: wall time, AWS requests counted at
the emulator and the provider's peak RSS for apply, a no-op plan (with refresh) and destroy,
over several runs; prints medians. Run by `make bench` (not part of CI); results go to
docs/PERFORMANCE.md with the command that produced them.

Usage: python tools/bench.py [--runs N] [--latency-ms MS] [--provider-dir DIR]"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
CONFIG = """terraform {
  required_providers {
    tap = { source = "tap-trading/tap" }
  }
}

resource "tap_trading_failover" "bench" {
  environment_suffix = "bench"
}
"""


def start_local_aws(latency_ms):
    env = dict(os.environ, PYTHONUNBUFFERED="1", LOCALAWS_LATENCY_MS=str(latency_ms))
    child = subprocess.Popen(
        [str(ROOT / ".venv/bin/python"), "-m", "localaws", "--port", "0"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    line = child.stdout.readline().strip()
    return child, line.split("=", 1)[1]


def requests_so_far(endpoint):
    with urllib.request.urlopen(f"{endpoint}/localaws/requests") as response:
        return sum(json.load(response).values())


class PeakRss:
    """Polls the provider processes' high-water mark of resident memory (VmHWM)."""

    def __init__(self):
        self.peak_kb = 0
        self.running = True
        self.thread = threading.Thread(target=self.poll, daemon=True)
        self.thread.start()

    def poll(self):
        while self.running:
            for comm in pathlib.Path("/proc").glob("[0-9]*/comm"):
                try:
                    if not comm.read_text().startswith("terraform-provi"):
                        continue
                    for line in (comm.parent / "status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            self.peak_kb = max(self.peak_kb, int(line.split()[1]))
                except OSError:
                    continue
            time.sleep(0.05)

    def stop(self):
        self.running = False
        self.thread.join()
        return self.peak_kb / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--provider-dir", default=str(ROOT / "target/release"))
    args = parser.parse_args()
    provider = pathlib.Path(args.provider_dir).resolve() / "terraform-provider-tap"
    terraform = os.environ.get("TAP_TERRAFORM", str(ROOT / "bin/terraform"))
    child, endpoint = start_local_aws(args.latency_ms)
    results = {phase: [] for phase in ("apply", "plan", "destroy")}
    try:
        with tempfile.TemporaryDirectory() as work:
            work = pathlib.Path(work)
            (work / "main.tf").write_text(CONFIG)
            (work / "cli.tfrc").write_text(
                'provider_installation {\n  dev_overrides {\n    "tap-trading/tap" = "%s"\n  }\n  direct {}\n}\n'
                % provider.parent
            )
            env = dict(os.environ, TF_CLI_CONFIG_FILE=str(work / "cli.tfrc"), TF_IN_AUTOMATION="1",
                       CHECKPOINT_DISABLE="1", AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="bench",
                       AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1")
            env.pop("TF_LOG", None)
            if os.environ.get("BENCH_LOG"):
                env.update(TF_LOG_PROVIDER="DEBUG", TF_LOG_PATH=os.environ["BENCH_LOG"])
            commands = {
                "apply": ["apply", "-auto-approve", "-input=false"],
                "plan": ["plan", "-input=false", "-detailed-exitcode"],
                "destroy": ["destroy", "-auto-approve", "-input=false"],
            }
            for _ in range(args.runs):
                for phase, command in commands.items():
                    before = requests_so_far(endpoint)
                    rss = PeakRss()
                    started = time.monotonic()
                    done = subprocess.run([terraform, *command], cwd=work, env=env, capture_output=True, text=True)
                    wall = time.monotonic() - started
                    peak = rss.stop()
                    # A no-op plan must find nothing to change (-detailed-exitcode 0).
                    if done.returncode != 0:
                        sys.exit(f"{phase} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
                    results[phase].append((wall, requests_so_far(endpoint) - before, peak))
    finally:
        child.kill()
    print(f"provider {provider} ({provider.stat().st_size / 1e6:.1f} MB), {args.runs} runs, "
          f"latency {args.latency_ms} ms per request")
    print(f"{'phase':10}{'wall s (median)':>18}{'AWS requests':>15}{'peak RSS MB':>14}")
    for phase, rows in results.items():
        print(f"{phase:10}{statistics.median(r[0] for r in rows):>18.2f}"
              f"{statistics.median(r[1] for r in rows):>15.0f}{max(r[2] for r in rows):>14.1f}")


if __name__ == "__main__":
    main()
