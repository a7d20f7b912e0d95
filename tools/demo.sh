#!/usr/bin/env bash
# `make demo`: apply examples/quickstart against the local AWS with the freshly built provider,
# print the outputs, then fail the primary over and back while Route 53's answer is watched
# (`failover`, also `make demo-failover`). `make demo-destroy` tears it down and stops the local
# AWS. `tools/demo.sh terraform <args>` runs Terraform on the demo with the demo's settings.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$root/.demo"
mkdir -p "$work"
cp "$root"/examples/quickstart/*.tf "$work/"

# The local AWS runs on its time model, AWS's durations divided by this (so a modelled minute
# takes half a second): the failover is watched in modelled time.
LOCALAWS_TIME_SCALE="${TAP_DEMO_TIME_SCALE:-120}" "$root/tools/local-aws.sh" start >/dev/null
endpoint_line="$(cat "$root/.local-aws/endpoint")"
export AWS_ENDPOINT_URL="${endpoint_line#AWS_ENDPOINT_URL=}"
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1
export TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
# The quickstart asks for a name you control; the local AWS accepts any name AWS does.
export TF_VAR_domain_name="${TAP_DEMO_DOMAIN:-trading-demo.tap-demo.net}"
# Our own CLI config: use the provider just built, whatever the machine's TF_CLI_CONFIG_FILE says.
cat >"$work/cli.tfrc" <<TFRC
provider_installation {
  dev_overrides {
    "tap-trading/tap" = "$root/target/debug"
  }
  direct {}
}
TFRC
export TF_CLI_CONFIG_FILE="$work/cli.tfrc"
terraform="${TAP_TERRAFORM:-$root/bin/terraform}"

failover() {
  local balancers python="$root/.venv/bin/python"
  balancers="$(cd "$work" && "$terraform" output -json alb_dns_names)"
  pick() { "$python" -c "import json,sys; print(json.load(sys.stdin)['$1'])" <<<"$balancers"; }
  "$python" "$root/tools/failover_demo.py" "$TF_VAR_domain_name" "$(pick primary)" "$(pick standby)"
}

case "${1:-apply}" in
  apply)
    echo "local AWS at $AWS_ENDPOINT_URL"
    (cd "$work" && "$terraform" apply -auto-approve -input=false)
    echo
    echo "== outputs"
    (cd "$work" && "$terraform" output)
    echo
    echo "== what the local AWS now holds"
    "$root/.venv/bin/python" "$root/tools/inventory.py" "$AWS_ENDPOINT_URL"
    echo
    failover
    echo
    echo "== try next"
    echo "  tools/demo.sh terraform plan                              # nothing to change"
    echo "  tools/demo.sh terraform apply -var active_region=standby  # planned failover (back: =primary)"
    echo "  make demo-destroy                                         # destroy it all, stop the local AWS"
    echo "  docs: README.md, docs/index.md, docs/resources/trading_failover.md"
    ;;
  failover)
    failover
    ;;
  terraform)
    shift
    cd "$work" && exec "$terraform" "$@"
    ;;
  destroy)
    (cd "$work" && "$terraform" destroy -auto-approve -input=false)
    "$root/tools/local-aws.sh" stop
    ;;
esac
