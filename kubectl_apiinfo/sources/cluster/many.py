"""Refreshing several contexts at once ('refresh --all-contexts', 'check --all-contexts')."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Optional

from kubectl_apiinfo.console import progress
from kubectl_apiinfo.errors import UserError
from kubectl_apiinfo.sources.cluster.access import load_access, open_cache, resolution_key
from kubectl_apiinfo.sources.cluster.fetch import fetch_into
from kubectl_apiinfo.sources.cluster.flags import ClusterFlags
from kubectl_apiinfo.sources.snapshots.entry import Entry


def refresh_targets(flags: ClusterFlags, all_contexts: bool) -> list[Optional[str]]:
    """The contexts to refresh: every one in the kubeconfig, or just the one the flags select."""
    if not all_contexts:
        return [flags.context]
    from kubectl_apiinfo.kube.kubeconfig import context_names

    names = context_names(kubeconfig=flags.kubeconfig, environ=os.environ)
    if not names:
        raise UserError("the kubeconfig has no contexts to refresh")
    return names


def refresh_many(
    flags: ClusterFlags, contexts: list[Optional[str]], show_progress: bool
) -> list[tuple[str, Optional[Entry], Optional[str]]]:
    """Fetch several contexts at once; returns (context, entry or None, error or None) in the given order."""
    from concurrent.futures import ThreadPoolExecutor

    from kubectl_apiinfo.kube.kubeconfig_paths import kubeconfig_files

    timeout = flags.request_timeout
    files = kubeconfig_files(flags.kubeconfig, os.environ)
    cache = open_cache(flags)
    done = [0]

    def one(context: Optional[str]):
        label = context or "(current context)"
        try:
            access = load_access(flags.replace(context=context))
            if access is None:
                return label, None, "no cluster is configured (no kubeconfig)"
            label = access.context_name or access.display_server
            entry = fetch_into(cache, access, timeout, cache.get(access.identity), crds_anew=True)
            cache.remember_resolution(resolution_key(flags.replace(context=context), files), access.identity)
            return label, entry, None
        except UserError as e:
            return label, None, str(e)
        finally:
            done[0] += 1
            if show_progress:
                progress(f"refreshed {done[0]}/{len(contexts)}")

    try:
        with ThreadPoolExecutor(max_workers=min(8, max(1, len(contexts)))) as pool:
            results = list(pool.map(one, contexts))
    finally:
        if show_progress:
            progress(f"refreshed {done[0]}/{len(contexts)}", done=True)
        cache.close()
    return results
