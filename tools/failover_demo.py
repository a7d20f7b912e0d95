#!/usr/bin/env python3
"""The demo's failover, watched the way a user watches it on AWS: Route 53's DNS answer for the
application's name (TestDNSAnswer, `aws route53 test-dns-answer`), asked again and again while the
primary fails and recovers. Run against the local AWS only: the primary's failure is the local
AWS's switch (`/localaws/elb/<load balancer>/unhealthy`, the application failing its health
check), the addresses of each load balancer come from its resolver (`/localaws/resolve/<name>`,
`dig +short` on AWS), and elapsed time is its modelled clock (`/localaws/clock`).

Usage: failover_demo.py <application name> <primary ALB DNS name> <standby ALB DNS name>
with AWS_ENDPOINT_URL set. Exits 1 when the answer does not move to the standby and back."""

import json
import os
import sys
import time
import urllib.request

import boto3

# Give up after this much modelled time without the expected answer (a 10 s interval and a
# threshold of 3 fail over within a minute; recovery adds the target group's healthy threshold).
PATIENCE_SECONDS = 600
# How often the answer is asked for, in modelled seconds.
POLL_SECONDS = 2


class Demo:
    def __init__(self, endpoint, name, balancers):
        self.endpoint = endpoint.rstrip("/")
        self.name = name
        self.balancers = balancers  # role -> DNS name
        self.route53 = boto3.client(
            "route53", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "demo"),
            aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "demo"),
        )
        self.zone = self._zone()
        self.owners = {
            address: role for role, dns in balancers.items() for address in self.local(f"/localaws/resolve/{dns}").split()
        }
        clock = json.loads(self.local("/localaws/clock"))
        if not clock["scale"]:
            sys.exit("the local AWS runs without its time model: stop it (make demo-destroy) and run make demo again")
        self.scale = clock["scale"]
        self.started = clock["seconds"]
        self.real_started = time.monotonic()

    def local(self, path):
        with urllib.request.urlopen(self.endpoint + path, timeout=10) as response:
            return response.read().decode()

    def _zone(self):
        zones = self.route53.list_hosted_zones_by_name()["HostedZones"]
        name = self.name.rstrip(".") + "."
        mine = [z for z in zones if name == z["Name"] or name.endswith("." + z["Name"])]
        if not mine:
            sys.exit(f"no hosted zone holds {self.name}")
        return max(mine, key=lambda z: len(z["Name"]))["Id"].rsplit("/", 1)[-1]

    def elapsed(self):
        return json.loads(self.local("/localaws/clock"))["seconds"] - self.started

    def answer(self):
        out = self.route53.test_dns_answer(HostedZoneId=self.zone, RecordName=self.name, RecordType="A")
        addresses = sorted(out["RecordData"])
        roles = {self.owners.get(a, "unknown") for a in addresses}
        return " ".join(addresses), (roles.pop() if len(roles) == 1 else "mixed")

    def say(self, text):
        stamp = f"+{self.elapsed():.0f} s"
        print(f"  {stamp:>7}  {text}", flush=True)

    def show(self, answer):
        addresses, role = answer
        self.say(f"{self.name} -> {addresses}  ({role} load balancer)")

    def wait_for(self, role):
        """Asks until the answer is `role`'s load balancer; prints it. False on running out."""
        deadline = self.elapsed() + PATIENCE_SECONDS
        while self.elapsed() < deadline:
            answer = self.answer()
            if answer[1] == role:
                self.show(answer)
                return True
            time.sleep(POLL_SECONDS / self.scale)
        self.say(f"the answer never moved to the {role} load balancer")
        return False

    def switch(self, verdict):
        self.local(f"/localaws/elb/{self.balancers['primary']}/{verdict}")


def main():
    if len(sys.argv) != 4 or not os.environ.get("AWS_ENDPOINT_URL"):
        sys.exit(__doc__)
    name, primary, standby = sys.argv[1:]
    demo = Demo(os.environ["AWS_ENDPOINT_URL"], name, {"primary": primary, "standby": standby})
    print(f"== failover: Route 53's answer for {name} (TestDNSAnswer), in modelled time "
          f"(the local AWS runs {demo.scale:g}x faster than AWS)")
    # A check made moments ago may not have seen the primary's targets healthy yet.
    if not demo.wait_for("primary"):
        sys.exit(1)
    demo.switch("unhealthy")
    failed = demo.elapsed()
    demo.say("the primary's application starts failing its /health check")
    failed_over = demo.wait_for("standby")
    demo.switch("healthy")
    recovered = demo.elapsed()
    demo.say("the primary's application is healthy again")
    failed_back = failed_over and demo.wait_for("primary")
    real = time.monotonic() - demo.real_started
    modelled = demo.elapsed()
    print(f"  failover {recovered - failed:.0f} s after the failure, failback {modelled - recovered:.0f} s "
          f"after the recovery (modelled); {real:.1f} s real for {modelled / 60:.1f} modelled minutes")
    sys.exit(0 if failed_over and failed_back else 1)


if __name__ == "__main__":
    main()
