"""What the test servers (server.py, oidc_issuer.py, socks5_proxy.py) share: the ready line
the fixtures wait for, then serving until SIGTERM."""

from __future__ import annotations

import json
import signal
import sys


def _stop(signum, frame) -> None:
    raise SystemExit(0)


def announce_and_serve(server, url: str) -> int:
    """Print {"ready": true, "port", "url"} on stdout, serve until SIGTERM, close the socket."""
    signal.signal(signal.SIGTERM, _stop)
    sys.stdout.write(json.dumps({"ready": True, "port": server.server_address[1], "url": url}) + "\n")
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
    return 0
