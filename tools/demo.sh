#!/usr/bin/env bash
# `make demo`: apply examples/quickstart against the local AWS with the freshly built provider,
# then print the outputs. `make demo-destroy` tears it down and stops the local AWS.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$root/.demo"
mkdir -p "$work"
cp "$root"/examples/quickstart/*.tf "$work/"

"$root/tools/local-aws.sh" start >/dev/null
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
    echo "Tear down with: make demo-destroy"
    ;;
  destroy)
    (cd "$work" && "$terraform" destroy -auto-approve -input=false)
    "$root/tools/local-aws.sh" stop
    ;;
esac
