"""kubectl's own discovery cache, for offline answers where we have no snapshot yet.

kubectl keeps ~/.kube/cache/discovery/<host_port>/servergroups.json and one
<group>/<version>/serverresources.json per group/version, in the legacy
discovery format.  KUBECACHEDIR moves ~/.kube/cache, as it does for kubectl.
"""

from __future__ import annotations

import json
import os
import re

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Mapping, Optional

from kubectl_apiinfo.kube.discovery_documents import legacy_group_versions, parse_resource_list
from kubectl_apiinfo.errors import redact_url
from kubectl_apiinfo.model import APISnapshot, Group, GroupVersion, SnapshotSource


def discovery_dir(server: str, environ: Mapping[str, str]) -> str:
    parent = environ.get("KUBECACHEDIR") or os.path.join(environ.get("HOME") or os.path.expanduser("~"), ".kube", "cache")
    # kubectl's computeDiscoverCacheDir: drop the scheme, turn other unusual characters into '_'.
    host = server.replace("https://", "", 1).replace("http://", "", 1)
    return os.path.join(parent, "discovery", re.sub(r"[^(\w/.)]", "_", host))


def load(server: str, name: str, environ: Mapping[str, str]) -> Optional[APISnapshot]:
    """The snapshot kubectl cached for this server, or None where there is none or it is unreadable."""
    base = discovery_dir(server, environ)
    try:
        with open(os.path.join(base, "servergroups.json"), encoding="utf-8") as f:
            groups_doc = json.load(f)
        mtime = os.path.getmtime(os.path.join(base, "servergroups.json"))
    except (OSError, ValueError):
        return None
    if not isinstance(groups_doc, dict):
        return None
    listing = [
        (g.get("name", ""), [v.get("version") for v in g.get("versions") or []], (g.get("preferredVersion") or {}).get("version"))
        for g in groups_doc.get("groups") or []
        if isinstance(g, dict)
    ]
    if not any(name_ == "" for name_, _, _ in listing):
        # Older kubectl keeps the core group out of servergroups.json.
        listing = legacy_group_versions({"versions": ["v1"]}, {"groups": []}) + listing
    groups = []
    for group, versions, preferred in listing:
        gvs = []
        for version in versions:
            if not isinstance(version, str):
                continue
            path = os.path.join(base, group, version, "serverresources.json") if group else os.path.join(base, version, "serverresources.json")
            try:
                with open(path, encoding="utf-8") as f:
                    gvs.append(GroupVersion(version, parse_resource_list(json.load(f), group, version)))
            except (OSError, ValueError, AttributeError, TypeError):
                continue
        if gvs:
            groups.append(Group(group, gvs, preferred=preferred if preferred in {gv.version for gv in gvs} else None))
    if not groups:
        return None
    source = SnapshotSource("kubectl-cache", name, "", server=redact_url(server), fetched_at_epoch=mtime, path=base)
    return APISnapshot(source, groups)
