"""A real client-go exec credential plugin for the tests: prints an ExecCredential.

It can record what it was given (KUBERNETES_EXEC_INFO, its environment, whether its
stdin is a terminal) and count its runs, so tests see exactly what a plugin sees.
Run as `python credential_plugin.py [options]`; see --help.
"""

import argparse
import json
import os
import sys
import time
from datetime import datetime, timedelta, timezone


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--counter", help="append a line per run to this file; the run number is its line count")
    p.add_argument("--record", help="write what the plugin received to this JSON file")
    p.add_argument("--token", help="answer with the token PREFIX-RUN (a new one on each run)")
    p.add_argument("--fixed-token", help="answer with exactly this token on every run")
    p.add_argument("--cert-text", help="answer with this clientCertificateData")
    p.add_argument("--key-text", help="answer with this clientKeyData")
    p.add_argument("--expires-in", type=float, help="expirationTimestamp this many seconds from now")
    p.add_argument("--expiration", help="a literal expirationTimestamp")
    p.add_argument("--api-version", help="answer with this apiVersion (default: the one asked for)")
    p.add_argument("--kind", default="ExecCredential")
    p.add_argument("--no-status", action="store_true")
    p.add_argument("--raw-stdout", help="print exactly this instead of an ExecCredential")
    p.add_argument("--stderr", help="print this to stderr")
    p.add_argument("--exit", type=int, default=0, help="exit with this status (after printing)")
    p.add_argument("--sleep", type=float, default=0)
    p.add_argument("--holder", help="first start a process that sleeps for an hour holding stdout open; write its pid here")
    p.add_argument("--flood", type=int, default=0, help="print this many bytes of junk first")
    a = p.parse_args()

    run = 1
    if a.counter:
        with open(a.counter, "a") as f:
            f.write("run\n")
        with open(a.counter) as f:
            run = len(f.read().splitlines())
    info_text = os.environ.get("KUBERNETES_EXEC_INFO")
    if a.record:
        with open(a.record, "w") as f:
            json.dump(
                {
                    "exec_info": json.loads(info_text) if info_text else None,
                    "env": dict(os.environ),
                    "argv": sys.argv[1:],
                    "stdin_isatty": os.isatty(0),
                    "run": run,
                },
                f,
            )
    if a.stderr:
        sys.stderr.write(a.stderr + "\n")
        sys.stderr.flush()
    if a.holder:
        import subprocess

        holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])  # inherits stdout
        with open(a.holder, "w") as f:
            f.write(str(holder.pid))
    if a.flood:
        block = b"x" * (1 << 20)
        for start in range(0, a.flood, len(block)):
            sys.stdout.buffer.write(block[: a.flood - start])
        sys.stdout.flush()
    if a.sleep:
        time.sleep(a.sleep)
    if a.raw_stdout is not None:
        sys.stdout.write(a.raw_stdout)
        return a.exit

    asked = json.loads(info_text)["apiVersion"] if info_text else "client.authentication.k8s.io/v1"
    answer = {"apiVersion": a.api_version or asked, "kind": a.kind}
    if not a.no_status:
        status = {}
        if a.token:
            status["token"] = f"{a.token}-{run}"
        if a.fixed_token:
            status["token"] = a.fixed_token
        if a.cert_text:
            status["clientCertificateData"] = a.cert_text
        if a.key_text:
            status["clientKeyData"] = a.key_text
        if a.expires_in is not None:
            when = datetime.now(timezone.utc) + timedelta(seconds=a.expires_in)
            status["expirationTimestamp"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        if a.expiration:
            status["expirationTimestamp"] = a.expiration
        answer["status"] = status
    json.dump(answer, sys.stdout)
    return a.exit


if __name__ == "__main__":
    sys.exit(main())
