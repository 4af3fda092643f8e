"""A small SOCKS5 proxy (RFC 1928, CONNECT only; RFC 1929 username/password if configured).

Run it as ``python tests/fakeapi/socks5_proxy.py --config CONFIG.json``; it prints
one JSON line (``{"ready": true, "port": N, "url": "socks5://127.0.0.1:N"}``) once
it listens and serves until SIGTERM.  Every CONNECT it relays is appended to the
file `log` as a JSON line {"host", "port", "atyp"} (atyp "domain" when the client
left name resolution to the proxy, as Go's SOCKS5 dialer does).

Config keys: log (a path), username and password (both or neither).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import socket
import socketserver
import struct
import sys
import threading
from pathlib import Path


def _exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("the client went away")
        data += chunk
    return data


class Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        config = self.server.config  # type: ignore[attr-defined]
        client = self.request
        version, count = _exactly(client, 2)
        methods = _exactly(client, count)
        wanted = 0x02 if config.get("username") else 0x00
        if version != 5 or wanted not in methods:
            client.sendall(b"\x05\xff")
            return
        client.sendall(bytes([5, wanted]))
        if wanted == 0x02:
            _, ulen = _exactly(client, 2)
            user = _exactly(client, ulen).decode()
            (plen,) = _exactly(client, 1)
            password = _exactly(client, plen).decode()
            ok = (user, password) == (config["username"], config["password"])
            client.sendall(b"\x01\x00" if ok else b"\x01\x01")
            if not ok:
                return
        _, command, _, atyp = _exactly(client, 4)
        if atyp == 1:
            host, kind = str(ipaddress.IPv4Address(_exactly(client, 4))), "ipv4"
        elif atyp == 3:
            (n,) = _exactly(client, 1)
            host, kind = _exactly(client, n).decode(), "domain"
        elif atyp == 4:
            host, kind = str(ipaddress.IPv6Address(_exactly(client, 16))), "ipv6"
        else:
            client.sendall(b"\x05\x08\x00\x01" + b"\0" * 6)
            return
        (port,) = struct.unpack("!H", _exactly(client, 2))
        with self.server.lock:  # type: ignore[attr-defined]
            with open(config["log"], "a") as f:
                f.write(json.dumps({"host": host, "port": port, "atyp": kind}) + "\n")
        if command != 1:
            client.sendall(b"\x05\x07\x00\x01" + b"\0" * 6)
            return
        try:
            upstream = socket.create_connection((host, port), timeout=10)
        except OSError:
            client.sendall(b"\x05\x05\x00\x01" + b"\0" * 6)
            return
        client.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("127.0.0.1") + struct.pack("!H", 0))
        self._relay(client, upstream)

    @staticmethod
    def _relay(a: socket.socket, b: socket.socket) -> None:
        def pump(src: socket.socket, dst: socket.socket) -> None:
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        other = threading.Thread(target=pump, args=(b, a), daemon=True)
        other.start()
        pump(a, b)
        other.join(timeout=10)
        b.close()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main() -> int:
    parser = argparse.ArgumentParser(description="A small SOCKS5 proxy for the tests.")
    parser.add_argument("--config", required=True)
    args = parser.parse_args()
    config = json.loads(Path(args.config).read_text())
    server = Server(("127.0.0.1", 0), Handler)
    server.config = config  # type: ignore[attr-defined]
    server.lock = threading.Lock()  # type: ignore[attr-defined]
    from serving import announce_and_serve

    return announce_and_serve(server, f"socks5://127.0.0.1:{server.server_address[1]}")


if __name__ == "__main__":
    sys.exit(main())
