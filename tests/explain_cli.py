"""Until the CLI wires 'kubectl apiinfo explain', run commands.explain.run the way the CLI will.

    python tests/explain_cli.py RESOURCE [--api-version G/V] [--recursive] [-o FORMAT]
        [--kube-version V] [--kubeconfig F] [--context C] [--cache-dir D] [--offline] [--refresh]

Errors come out as the executable prints them: one 'error: ' line, exit status 1.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kubectl_apiinfo.commands.explain import run  # noqa: E402
from kubectl_apiinfo.errors import UserError  # noqa: E402
from kubectl_apiinfo.sources.choose import ClusterFlags  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("resource")
parser.add_argument("--api-version")
parser.add_argument("--recursive", action="store_true")
parser.add_argument("-o", "--output", default="text")
parser.add_argument("--kube-version")
for flag in ("--kubeconfig", "--context", "--cache-dir", "--server", "--token", "--request-timeout"):
    parser.add_argument(flag)
parser.add_argument("--offline", action="store_true")
parser.add_argument("--refresh", action="store_true")
args = parser.parse_args()
flags = ClusterFlags(
    kubeconfig=args.kubeconfig, context=args.context, server=args.server, token=args.token,
    request_timeout=args.request_timeout, cache_dir=args.cache_dir, refresh=args.refresh, offline=args.offline,
)
try:
    run(flags, args.resource, api_version=args.api_version, recursive=args.recursive, output=args.output,
        kube_version=args.kube_version)
except UserError as e:
    sys.stderr.write(f"error: {e}\n")
    sys.exit(1)

