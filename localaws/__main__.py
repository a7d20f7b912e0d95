"""`python -m localaws [--port N]`: serve the emulator on loopback and print its endpoint.

The first stdout line is `AWS_ENDPOINT_URL=http://127.0.0.1:PORT`; harnesses read it."""

import argparse
import sys

from werkzeug.serving import make_server

from .app import build


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args()
    server = make_server(args.host, args.port, build(), threaded=True)
    print(f"AWS_ENDPOINT_URL=http://{args.host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
