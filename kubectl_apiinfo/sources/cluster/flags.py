"""kubectl's connection flags, and ours that choose between the cache and the network, as one typed record.

Its fields are the dests of cli/spec.py's CLUSTER_OPTIONS and CACHE_TTL (a test
keeps the two equal); from_values() builds it from a command's typed values.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Mapping, Optional

from kubectl_apiinfo.model import Record


class ClusterFlags(Record):
    __slots__ = (
        "kubeconfig", "context", "cluster", "user", "server", "token", "request_timeout", "cache_dir", "refresh", "offline",
        "cache_ttl",
    )

    def __init__(
        self,
        kubeconfig: Optional[str] = None,
        context: Optional[str] = None,
        cluster: Optional[str] = None,
        user: Optional[str] = None,
        server: Optional[str] = None,
        token: Optional[str] = None,
        request_timeout: Optional[float] = None,  # seconds; None: no limit
        cache_dir: Optional[str] = None,
        refresh: bool = False,
        offline: bool = False,
        cache_ttl: Optional[float] = None,  # seconds a snapshot answers unasked (--cache-ttl); None: for ever
    ):
        self.kubeconfig = kubeconfig
        self.context = context
        self.cluster = cluster
        self.user = user
        self.server = server
        self.token = token
        self.request_timeout = request_timeout
        self.cache_dir = cache_dir
        self.refresh = refresh
        self.offline = offline
        self.cache_ttl = cache_ttl

    @classmethod
    def from_values(cls, values: Mapping[str, object]) -> "ClusterFlags":
        """The flags among a command's typed values (by dest); those it does not take keep their defaults."""
        given = {name: values[name] for name in cls.__slots__ if values.get(name) is not None}
        if not given.get("request_timeout"):
            given.pop("request_timeout", None)  # 0 means no limit, as in kubectl
        return cls(**given)

    def __repr__(self) -> str:
        # Never show the token, whatever prints this.
        return super().__repr__().replace(repr(self.token), "'***'") if self.token else super().__repr__()

    @property
    def names_a_cluster(self) -> bool:
        return any((self.kubeconfig, self.context, self.cluster, self.user, self.server, self.token))
