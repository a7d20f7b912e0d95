"""Runs the reliability suite and writes docs/RELIABILITY.md's tables from what it printed.

Each fault seed, lost-response seed and crash point is one run of its test in
tests/acceptance/reliability.rs (the test binary built once, run with `nice`, `--jobs` at a
time, the suites in turn), so that one failure does not hide the others. Every run prints a `RELIABILITY-RESULT
{json}` line when it passes; a failed run is recorded with its panic message. The raw output
(a header with the command, commit, date and machine load, then one line per run) goes to
docs/runs/reliability-<commit>.txt, and the tables between the `reliability-report` markers of
docs/RELIABILITY.md are generated from that file; the prose around them is left alone.

Usage: python tools/reliability-report.py [--fault-seeds "1 2 3"] [--lost-seeds "1 2"]
           [--crash-points "40 160"] [--jobs 2] [--build-lock FILE]
       python tools/reliability-report.py --from docs/runs/reliability-<commit>.txt
           [--compare docs/runs/reliability-<earlier commit>.txt]
"""

import argparse
import concurrent.futures
import datetime
import hashlib
import json
import os
import pathlib
import re
import shlex
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOC = ROOT / "docs/RELIABILITY.md"
RUNS = ROOT / "docs/runs"
TESTS = {
    "faults": ("reliability::one_request_in_ten_failing_still_converges_without_duplicates",
               "TAP_FAULT_SEEDS"),
    "lost": ("reliability::one_create_answer_in_ten_lost_still_makes_exactly_one_of_each",
             "TAP_LOST_SEEDS"),
    "crash": ("reliability::a_provider_killed_mid_apply_or_mid_destroy_loses_nothing",
              "TAP_CRASH_POINTS"),
}
KINDS = ("throttle", "500", "503", "reset")


def git(*args):
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_binary(lock):
    """Builds the acceptance tests (under the build lock, if any) and returns the binary."""
    command = ["cargo", "test", "--test", "acceptance", "--no-run", "--message-format=json"]
    if lock:
        command = ["flock", lock, *command]
    built = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if built.returncode != 0:
        sys.exit(f"building the acceptance tests failed:\n{built.stderr[-4000:]}")
    for line in built.stdout.splitlines():
        message = json.loads(line)
        if message.get("reason") == "compiler-artifact" and message.get("executable") \
                and message["target"]["name"] == "acceptance":
            return message["executable"]
    sys.exit("cargo built no acceptance test binary")


def run_one(binary, suite, value):
    """One seed or crash point: its result line, or a failure with the panic message."""
    test, variable = TESTS[suite]
    started = time.monotonic()
    done = subprocess.run(["nice", "-n", "10", binary, "--exact", test, "--nocapture"],
                          cwd=ROOT, env=dict(os.environ, **{variable: value}),
                          capture_output=True, text=True)
    took = round(time.monotonic() - started)
    results = [line.split(" ", 1)[1] for line in done.stdout.splitlines()
               if line.startswith("RELIABILITY-RESULT ")]
    if done.returncode == 0 and results:
        return [f"RELIABILITY-RESULT {r}" for r in results] + [f"# {suite} {value}: {took} s"]
    reason = failure(done.stdout + done.stderr) or f"exit code {done.returncode}"
    key = "seed" if suite != "crash" else "point"
    failed = {"suite": suite, key: value if suite != "crash" else int(value), "failed": reason}
    return [f"RELIABILITY-FAILED {json.dumps(failed)}", f"# {suite} {value}: {took} s"]


def failure(output):
    """The panic message's first line and the errors Terraform printed, on one line."""
    panic = re.search(r"panicked at [^\n]*\n(.*)", output)
    if not panic:
        return None
    errors = re.findall(r"^[│ ]*Error: (.*)\n[│ ]*\n?[│ ]*(.*)$", output, re.M)
    details = "; ".join(f"{title}: {detail}".strip(": ") for title, detail in errors[:3])
    return (panic.group(1) + (" " + details if details else "")).replace("|", "\\|")[:800]


def loadavg():
    return " ".join(pathlib.Path("/proc/loadavg").read_text().split()[:3])


def interleaved(args):
    """The runs, the three suites taken in turn, so that a run cut short covers each of them."""
    suites = [[("faults", s) for s in args.fault_seeds.split()],
              [("lost", s) for s in args.lost_seeds.split()],
              [("crash", p) for p in args.crash_points.split()]]
    longest = max(len(jobs) for jobs in suites)
    return [jobs[i] for i in range(longest) for jobs in suites if i < len(jobs)]


def run(args):
    """Runs every job, appending each one's lines to the raw file as it ends, so that a run
    stopped early keeps what it measured; the header says how far it got."""
    commit = git("rev-parse", "HEAD")
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)docs")
    binary = test_binary(args.build_lock)
    jobs = interleaved(args)
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = loadavg()
    clock = time.monotonic()
    RUNS.mkdir(parents=True, exist_ok=True)
    raw = RUNS / f"reliability-{commit[:7]}.txt"
    command = " ".join(shlex.quote(a) for a in
                       ["python", "tools/reliability-report.py", *sys.argv[1:]])

    def header(done):
        took = (time.monotonic() - clock) / 60
        return [
            f"# command: {command}",
            f"# commit: {commit}" + (" (with uncommitted changes)" if dirty else ""),
            f"# date: {started:%Y-%m-%d %H:%M} UTC, {took:.0f} min, {done} of {len(jobs)} runs",
            f"# machine: {os.cpu_count()} CPUs, load average {load_before} before, "
            f"{loadavg()} after",
            f"# runs: {args.jobs} at a time, each under nice -n 10",
        ]

    lines = []
    raw.write_text("\n".join(header(0)) + "\n")
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for done, output in enumerate(pool.map(lambda job: run_one(binary, *job), jobs), 1):
            lines += output
            raw.write_text("\n".join(header(done) + lines) + "\n")
    print(f"wrote {raw.relative_to(ROOT)}")
    return raw


def read_raw(raw):
    header, results = {}, []
    for line in raw.read_text().splitlines():
        if line.startswith("# ") and ": " in line and not results:
            name, value = line[2:].split(": ", 1)
            header.setdefault(name, value)
        elif line.startswith(("RELIABILITY-RESULT ", "RELIABILITY-FAILED ")):
            results.append(json.loads(line.split(" ", 1)[1]))
    return header, results


def kinds(counts):
    total = sum(counts.values())
    parts = [f"{counts[k]} × {k}" for k in KINDS if counts.get(k)]
    return f"{total} ({', '.join(parts)})" if parts else "0"


def digest(log):
    return hashlib.sha256(json.dumps(log).encode()).hexdigest()[:12]


PASSED = "expected count of every kind, empty re-plan, nothing left"
# Per suite: the table's header and the cells of a passed run after its seed or point.
TABLES = {
    "faults": (["seed", "faults during apply", "faults during apply, plan and destroy",
                "fault list (sha256 of the sorted `[key, kind]` log)", "result"],
               lambda r: [kinds(r["faults_in_apply"]), kinds(r["faults_in_all"]),
                          f"`{digest(r['log'])}` ({len(r['log'])} in the log)", PASSED]),
    "lost": (["seed", "answers lost during apply", "lost during apply and destroy",
              "lost calls (sha256 of the sorted `[key, \"lost\"]` log)", "result"],
             lambda r: [str(r["lost_in_apply"]), str(len(r["lost"])), f"`{digest(r['lost'])}`",
                        PASSED]),
    "crash": (["apply killed after request", "destroy killed after request", "result"],
              lambda r: [str(r["destroy_point"]), PASSED]),
}


def table(suite, results):
    heading, cells = TABLES[suite]
    rows = ["| " + " | ".join(heading) + " |", "|" + "---|" * len(heading)]
    for r in results:
        first = str(r.get("seed", r.get("point")))
        rest = ([""] * (len(heading) - 2) + [f"**failed**: {r['failed']}"]
                if "failed" in r else cells(r))
        rows.append("| " + " | ".join([first, *rest]) + " |")
    return rows


def section(header, raw, suite, results):
    passed = sum("failed" not in r for r in results)
    return [
        f"Generated by `tools/reliability-report.py` from [`{raw.relative_to(ROOT / 'docs')}`]({raw.relative_to(ROOT / 'docs')}): "
        f"commit `{header['commit']}`, {header['date']}; command `{header['command']}`; "
        f"{header['machine']}. {passed} of {len(results)} passed.",
        "",
        *table(suite, results),
    ]


def fault_logs(results, suite):
    return {r["seed"]: r["log" if suite == "faults" else "lost"] for r in results
            if r["suite"] == suite and "failed" not in r}


def comparison(suite, results, earlier_raw):
    """How the fault lists of this run compare with an earlier run's, seed by seed."""
    earlier_header, earlier = read_raw(earlier_raw)
    now, then = fault_logs(results, suite), fault_logs(earlier, suite)
    seeds = [s for s in now if s in then]
    same = [s for s in seeds if now[s] == then[s]]
    differ = [f"{s} ({len({tuple(x) for x in now[s]} ^ {tuple(x) for x in then[s]})} entries in "
              f"one list only)" for s in seeds if now[s] != then[s]]
    source = earlier_raw.relative_to(ROOT / "docs")
    return ["", f"Against the run in [`{source}`]({source}) (commit "
                f"`{earlier_header['commit'][:7]}`, {earlier_header['date']}): the same list for "
                f"{len(same)} of {len(seeds)} seeds" + (f"; differing: {', '.join(differ)}" if differ else "") + "."]


def write_doc(raw, earlier_raw=None):
    header, results = read_raw(raw)
    text = DOC.read_text()
    for suite in TABLES:
        mine = [r for r in results if r["suite"] == suite]
        begin, end = f"<!-- reliability-report:{suite} -->", f"<!-- /reliability-report:{suite} -->"
        if begin not in text or end not in text:
            sys.exit(f"{DOC.relative_to(ROOT)} has no {begin} … {end} section")
        body = section(header, raw, suite, mine) if mine else ["Not run in this report."]
        if mine and earlier_raw and suite != "crash":
            body += comparison(suite, results, earlier_raw)
        before, rest = text.split(begin, 1)
        text = before + begin + "\n" + "\n".join(body) + "\n" + end + rest.split(end, 1)[1]
    DOC.write_text(text)
    print(f"wrote {DOC.relative_to(ROOT)}")
    return all("failed" not in r for r in results)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fault-seeds", default="")
    parser.add_argument("--lost-seeds", default="")
    parser.add_argument("--crash-points", default="")
    parser.add_argument("--jobs", type=int, default=3)
    parser.add_argument("--build-lock", help="flock this file while cargo builds")
    parser.add_argument("--from", dest="raw", help="regenerate the doc from this raw output")
    parser.add_argument("--compare", help="compare the fault lists with this earlier raw output")
    args = parser.parse_args()
    raw = pathlib.Path(args.raw).resolve() if args.raw else run(args)
    earlier = pathlib.Path(args.compare).resolve() if args.compare else None
    sys.exit(0 if write_doc(raw, earlier) else 1)


if __name__ == "__main__":
    main()
