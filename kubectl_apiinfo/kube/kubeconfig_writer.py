"""Writing refreshed auth-provider settings (OIDC tokens) back into the kubeconfig file, as kubectl does."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Mapping

from kubectl_apiinfo.errors import UserError


def save_auth_provider_config(path: str, user_name: str, updates: Mapping[str, str]) -> None:
    """Write updates into user_name's auth-provider config in the kubeconfig file path, as kubectl
    persists refreshed OIDC tokens: under kubectl's lock (path.lock, created exclusively), the whole
    file is rewritten (comments are lost, as with kubectl), atomically, keeping its mode and owner;
    other content and key order stay as they were."""
    lock = path + ".lock"
    try:
        os.close(os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        raise UserError(f"{lock} exists: kubectl (or another command) is writing the kubeconfig, or left its lock behind") from None
    try:
        _rewrite_auth_provider_config(path, user_name, updates)
    finally:
        os.unlink(lock)


def _rewrite_auth_provider_config(path: str, user_name: str, updates: Mapping[str, str]) -> None:
    import yaml

    real = os.path.realpath(path)  # a symlinked kubeconfig keeps its link
    with open(real, "rb") as f:
        doc = yaml.safe_load(f)
    users = doc.get("users") if isinstance(doc, dict) else None
    body = next((u.get("user") for u in users or [] if isinstance(u, dict) and str(u.get("name")) == user_name), None)
    provider = body.get("auth-provider") if isinstance(body, dict) else None
    if not isinstance(provider, dict) or not isinstance(provider.setdefault("config", {}), dict):
        raise UserError(f"user {user_name!r} has no auth-provider in {real} any more")
    provider["config"].update(updates)

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data):
            return True  # write shared values out in full, as kubectl does

    text = yaml.dump(doc, Dumper=Dumper, default_flow_style=False, sort_keys=False, allow_unicode=True)
    from kubectl_apiinfo.files import replace_file

    replace_file(real, text.encode("utf-8"), like=os.stat(real))
