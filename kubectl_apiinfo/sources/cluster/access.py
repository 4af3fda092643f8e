"""Which cluster the flags and kubeconfig name, and the key that lets a cached answer skip parsing YAML."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Mapping, Optional

from kubectl_apiinfo.console import warn
from kubectl_apiinfo.errors import UserError, redact_url
from kubectl_apiinfo.sources.cluster.flags import ClusterFlags


def load_access(flags: ClusterFlags, environ: Optional[Mapping[str, str]] = None):
    """The cluster the flags and kubeconfig name, or None when none is configured and none was asked for."""
    from kubectl_apiinfo.kube.kubeconfig import KubeConfig

    config = KubeConfig.read(flags.kubeconfig, os.environ if environ is None else environ)
    nothing_selected = not (config.current_context or flags.context or flags.cluster or flags.server)
    if nothing_selected and not flags.names_a_cluster:
        return None  # no kubeconfig, or one with no current context: the catalog answers
    return config.access(
        context=flags.context, cluster=flags.cluster, user=flags.user, server=flags.server, token=flags.token
    )


def resolution_key(flags: ClusterFlags, files: list[str]) -> str:
    """Which kubeconfig files (as they are now) and flags a query used: nothing secret, only names,
    stats and a checksum of each file's content.

    While they are unchanged they name the same cluster, so a cached answer need not parse YAML.
    ctime catches an edit whose tool put the mtime back; the checksum one on a file system with
    coarse timestamps.  Reading a few KB and its CRC cost ~10 us a file (zlib is loaded anyway).
    """
    import json
    import zlib

    from kubectl_apiinfo.files import read_bounded

    stats = []
    for path in files:
        try:
            st = os.stat(path)
            crc = zlib.crc32(read_bounded(path, 16 * 1024 * 1024, "a kubeconfig", stdin=False))
        except (OSError, UserError):
            stats.append((os.path.abspath(path), None))  # unreadable, a directory or a device: reading it reports that
            continue
        stats.append((os.path.abspath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, crc))
    chosen = {"context": flags.context, "cluster": flags.cluster, "user": flags.user, "server": redact_url(flags.server)}
    return json.dumps([stats, chosen], sort_keys=True)


def warn_kubeconfig_named_nothing(what: str) -> None:
    """KUBECONFIG was set, so a cluster was meant: say (as kubectl prints warnings) that the catalog answers instead.
    Without KUBECONFIG and ~/.kube/config the catalog is the plain offline use, and stays silent."""
    named = os.environ.get("KUBECONFIG")
    if named:
        shown = named if len(named) <= 200 else named[:200] + "..."
        warn(f"KUBECONFIG={shown} {what}: answering from the offline catalog (newest release), not a cluster")


def open_cache(flags: ClusterFlags):
    """The snapshot store the flags name (--cache-dir, else the user's cache directory)."""
    from kubectl_apiinfo.sources.snapshots.entry import default_dir
    from kubectl_apiinfo.sources.snapshots.store import SnapshotCache

    return SnapshotCache(flags.cache_dir or default_dir(), warn)
