"""Run the fake alone: ``python -m cchc_sync.testing.fake_google --port 8765``.

Prints its URL on the first line of stdout and serves until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from cchc_sync.testing.fake_google.server import FakeGoogle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cchc_sync.testing.fake_google",
                                     description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=None, help="deterministic ids and faults")
    parser.add_argument("--no-auth", action="store_true",
                        help="accept requests without a bearer token (as the default account)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    fake = FakeGoogle(host=args.host, port=args.port, seed=args.seed,
                      require_auth=not args.no_auth, verbose=args.verbose)
    stop = threading.Event()

    def _stop(signum: int, frame: object) -> None:  # noqa: ARG001
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    fake.start()
    print(fake.url, flush=True)
    print(f"token_uri: {fake.token_uri}", file=sys.stderr, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
