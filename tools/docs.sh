#!/usr/bin/env bash
# `make docs`: regenerate docs/ from the built provider's schema and examples/.
# `tools/docs.sh --check`: fail if docs/ differs from what would be generated (the measured
# figures and their raw runs, written by their own tools, are not generated here).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
provider_dir="${TAP_PROVIDER_DIR:-$root/target/debug}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat >"$work/cli.tfrc" <<TFRC
provider_installation {
  dev_overrides {
    "tap-trading/tap" = "$provider_dir"
  }
  direct {}
}
TFRC
printf 'terraform {\n  required_providers {\n    tap = { source = "tap-trading/tap" }\n  }\n}\n' >"$work/main.tf"
(cd "$work" && TF_CLI_CONFIG_FILE="$work/cli.tfrc" "${TAP_TERRAFORM:-$root/bin/terraform}" providers schema -json >"$work/schema.json" 2>"$work/stderr") \
  || { cat "$work/stderr" >&2; exit 1; }
mkdir -p "$work/docs"
"$root/.venv/bin/python" "$root/tools/gendocs.py" "$work/schema.json" "$root/examples" "$work/docs"
if [[ "${1:-}" == "--check" ]]; then
  if ! diff -ru "$root/docs" "$work/docs" --exclude=PERFORMANCE.md --exclude=RELIABILITY.md --exclude=deployer-policy.json --exclude=deployer-policy-tls.json --exclude=deployer-policy.md --exclude=runs; then
    echo "docs/ is stale: run 'make docs' and commit the result" >&2
    exit 1
  fi
  echo "docs/ is up to date"
else
  cp -r "$work/docs/." "$root/docs/"
  echo "docs/ regenerated"
fi
