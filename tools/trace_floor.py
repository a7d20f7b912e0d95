"""The critical chain of one apply, rebuilt from the run's own trace, and its floor.

The provider logs each step of an apply as it begins and ends, with the steps it waited for and
the step it runs inside (`src/resources/steps.rs`, at `TF_LOG_PROVIDER=DEBUG`); the local AWS
logs every request (`/localaws/requests/log`) and every modelled state with when it began and
when it settled (`/localaws/pending/log`). From these this module finds the longest dependent
chain as executed: from the step that ended last, back through the dependency of each step that
ended last, to a step that waited for none. The chain's floor is the same chain with zero
overshoot: each wait on it seen the moment its state settled rather than at the next poll.

`check` is the self-check: a step, or a dependency, that `GRAPH` does not know fails it, as does
a step that began before one it says it waited for had ended.

    python tools/trace_floor.py --log TF_LOG_PATH_FILE --endpoint http://127.0.0.1:PORT
"""

import argparse
import json
import re
import sys
import time
import urllib.request

# Every step the provider logs, with what it waits for one after the other: each is a modelled
# state (`localaws/pending.py`) and the request that sees it settle. The capacity check lists
# only the targets' health: AWS counts it from the instances' boot (`target.initial` follows
# `instance.pending`), so the boot's overshoot does not delay it.
DESCRIBE_TABLE = "dynamodb DescribeTable"
GRAPH = {
    "regions": [],
    "table": [("table.creating", DESCRIBE_TABLE), ("replica.creating", DESCRIBE_TABLE)],
    "certificates": [],
    "role": [],
    "http-check": [],
    "validation": [("acm.validation", "acm DescribeCertificate")],
    "stack": [],
    "zones": [],
    "network": [],
    "instance-inputs": [],
    "target-group": [],
    "load-balancer": [("alb.provisioning", "elasticloadbalancing DescribeLoadBalancers")],
    "egress": [("nat.pending", "ec2 DescribeNatGateways")],
    "launch-template": [],
    "group": [],
    "refresh-after": [],
    "refresh": [("refresh.running", "autoscaling DescribeInstanceRefreshes")],
    "capacity": [("target.initial", "elasticloadbalancing DescribeTargetHealth")],
    "dns": [],
    "zone": [],
    "health-check": [],
    "topics": [],
    "alarms": [],
    "switch-checks": [],
    "records": [("route53.change", "route53 GET change")],
    "scale-back": [],
    "standbys-removed": [],
}

_PAIR = re.compile(r'([\w@.-]+)=("(?:[^"\\]|\\.)*"|\S*)')


def _fields(line):
    """The key=value pairs of a line as Terraform writes provider logs, or the JSON of one."""
    brace = line.find("{")
    if brace >= 0 and '"@message"' in line:
        try:
            return json.loads(line[brace:])
        except ValueError:
            pass
    return {k: json.loads(v) if v.startswith('"') else v for k, v in _PAIR.findall(line)}


def read_steps(lines, offset):
    """Each step's `{name, region, begin, end, after, parent}`, by its `name@region` key; times
    on the monotonic clock (`offset` = wall clock minus monotonic clock)."""
    steps = {}
    for line in lines:
        for event in ("step begins", "step ends"):
            if event in line:
                break
        else:
            continue
        fields = _fields(line)
        key, at = fields.get("step"), fields.get("at")
        if not key or not at:
            continue
        name, _, region = key.partition("@")
        step = steps.setdefault(key, {"name": name, "region": region, "begin": None,
                                      "end": None, "after": [], "parent": ""})
        if event == "step begins":
            step["begin"] = float(at) - offset
            step["after"] = [a for a in str(fields.get("after", "")).split(",") if a]
            step["parent"] = fields.get("parent", "") or ""
        else:
            step["end"] = float(at) - offset
    return steps


def _named(steps, name, region):
    """The steps called `name` a step of `region` may wait for: of its region or global, or of
    any region for a global step."""
    return [k for k, s in steps.items()
            if s["name"] == name and (not region or s["region"] in (region, ""))]


def dependencies(steps, key):
    """The steps `key` waited for: those its `after` names, or when it names none, its parent's."""
    step = steps[key]
    if step["after"]:
        return [k for name in step["after"] for k in _named(steps, name, step["region"])]
    parent = step["parent"]
    return dependencies(steps, parent) if parent in steps else []


def _last_leaf(steps, key):
    """The step, among `key` and those inside it, that ended last and holds no other."""
    inside = [k for k, s in steps.items() if s["parent"] == key]
    if not inside:
        return key
    return _last_leaf(steps, max(inside, key=lambda k: steps[k]["end"]))


def check(steps):
    """What is wrong with the trace against `GRAPH`: unknown steps or dependencies, steps that
    never ended, and steps begun before a dependency ended (1 ms allowed for the clock)."""
    problems = []
    for key, step in sorted(steps.items()):
        if step["name"] not in GRAPH:
            problems.append(f"step {key} is not in the graph")
        for name in step["after"]:
            if name not in GRAPH:
                problems.append(f"step {key} waits for {name}, which is not in the graph")
        if step["begin"] is None or step["end"] is None:
            problems.append(f"step {key} did not both begin and end in the log")
            continue
        for dep in dependencies(steps, key):
            end = steps[dep]["end"]
            if end is None or end > step["begin"] + 0.001:
                problems.append(f"step {key} began before {dep}, which it waits for, ended")
    return problems


def critical_chain(steps):
    """Leaf steps from the first to the one that ended last, each the dependency of the next
    that ended last."""
    steps = {k: s for k, s in steps.items() if s["begin"] is not None and s["end"] is not None}
    leaves = [k for k in steps if not any(s["parent"] == k for s in steps.values())]
    if not leaves:
        return []
    chain = [max(leaves, key=lambda k: steps[k]["end"])]
    while True:
        deps = [_last_leaf(steps, d) for d in dependencies(steps, chain[-1])]
        deps = [d for d in deps if d not in chain]
        if not deps:
            return chain[::-1]
        chain.append(max(deps, key=lambda k: steps[k]["end"]))


def overshoot(step, states, requests):
    """How long, while `step` ran, what it waited for had settled without being seen yet: for
    each state of a kind it waits for that settled meanwhile (in its region), from when it settled
    to the next request that reads that kind in that region; overlapping spans counted once."""
    spans = []
    for kind, read in GRAPH[step["name"]]:
        for state_kind, region, _, ready in states:
            if state_kind != kind or not step["begin"] <= ready <= step["end"]:
                continue
            if step["region"] and region != step["region"]:
                continue
            seen = min((r[0] for r in requests
                        if r[3] == read and r[2] == region and r[0] >= ready),
                       default=step["end"])
            spans.append((ready, min(seen, step["end"])))
    total, current = 0.0, None
    for start, end in sorted(spans):
        if end <= start:
            continue
        if current is None or start > current[1]:
            total += current[1] - current[0] if current else 0.0
            current = [start, end]
        else:
            current[1] = max(current[1], end)
    total += current[1] - current[0] if current else 0.0
    return total


def analyse(steps, states, requests, since):
    """The critical chain as rows of (step key, began, ended, gap before it, overshoot) in
    seconds from `since`, and its totals."""
    rows, before = [], since
    for key in critical_chain(steps):
        step = steps[key]
        rows.append({"step": key, "begin": step["begin"] - since, "end": step["end"] - since,
                     "gap": step["begin"] - before,
                     "waits": ", ".join(kind for kind, _ in GRAPH.get(step["name"], [])),
                     "overshoot": overshoot(step, states, requests)})
        before = step["end"]
    executed = rows[-1]["end"] if rows else 0.0
    over = sum(r["overshoot"] for r in rows)
    return {"rows": rows, "executed": executed, "overshoot": over, "floor": executed - over,
            "before_first": rows[0]["begin"] if rows else 0.0}


def lines_of(analysis):
    out = ["| step on the critical chain | began s | ended s | gap before s | waited for | overshoot s |",
           "|---|---|---|---|---|---|"]
    for r in analysis["rows"]:
        out.append(f"| {r['step']} | {r['begin']:.2f} | {r['end']:.2f} | {r['gap']:.2f} | "
                   f"{r['waits'] or '-'} | {r['overshoot']:.2f} |")
    out.append("")
    out.append(f"From the apply's start: the chain ends at {analysis['executed']:.2f} s, its first "
               f"step begins at {analysis['before_first']:.2f} s, its waits overshoot by "
               f"{analysis['overshoot']:.2f} s, so with zero overshoot it ends at "
               f"{analysis['floor']:.2f} s.")
    return out


def fetch(endpoint, path):
    with urllib.request.urlopen(f"{endpoint}{path}") as response:
        return json.load(response)


def from_run(log_path, endpoint, since=None):
    """The self-check's problems and the analysis (None without an endpoint or a step) of the
    apply logged at `log_path` against the local AWS at `endpoint`; `since` is the apply's start
    on the monotonic clock (default: when its first step began)."""
    offset = time.time() - time.monotonic()
    with open(log_path, encoding="utf-8", errors="replace") as log:
        steps = read_steps(log, offset)
    problems = check(steps) or ([] if steps else [f"no step in {log_path}: TF_LOG_PROVIDER=DEBUG?"])
    if not steps or not endpoint:
        return problems, None
    if since is None:
        since = min(s["begin"] for s in steps.values() if s["begin"] is not None)
    states = fetch(endpoint, "/localaws/pending/log")
    requests = fetch(endpoint, "/localaws/requests/log")
    return problems, analyse(steps, states, requests, since)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", required=True, help="the apply's TF_LOG_PATH file")
    parser.add_argument("--endpoint", help="the local AWS (without it, the self-check only)")
    parser.add_argument("--since", type=float, help="the apply's start on the monotonic clock")
    args = parser.parse_args()
    problems, analysis = from_run(args.log, args.endpoint, args.since)
    for problem in problems:
        print(f"self-check: {problem}", file=sys.stderr)
    if analysis:
        print("\n".join(lines_of(analysis)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
