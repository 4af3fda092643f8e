"""What a command runs with besides its options: the sources it asks and where its answer goes.

As kubectl's cmdutil.Factory hands out clients, this hands out Sources, so a
test can run any command in-process against any source (FixedSources) and read
what it printed.  Nothing is opened or imported until a command asks for it.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms to import; these annotations are never evaluated
    from typing import Callable, Optional

from kubectl_apiinfo import console


class Factory:
    def __init__(self, options, write: Optional[Callable[[str], None]] = None):
        self.options = options
        self.out = write or console.out  # the answer; warnings and notes go to stderr through console

    @property
    def _flags(self):
        return self.options.flags

    @property
    def _kube_version(self) -> Optional[str]:
        return getattr(self.options, "kube_version", None)

    def source(self, words: Optional[list] = None, schemas: bool = False):
        """The release --kube-version names, else the cluster the flags name, else the catalog."""
        from kubectl_apiinfo.sources import select

        return select.for_query(self._flags, self._kube_version, words, schemas)

    def cluster(self, context: str = ""):
        """The cluster the flags name (or that context of the kubeconfig), whatever --kube-version says (scan's:
        a release is its target, not its source); the catalog when none is configured, which the caller refuses."""
        from kubectl_apiinfo.sources import select

        if context:
            return select.for_query(self._flags.replace(context=context), context=context)
        return select.for_query(self._flags)

    def cache(self):
        """The snapshot cache the flags name, opened (a context manager): what scan keeps and reads back."""
        from kubectl_apiinfo.sources.cluster.access import open_cache

        return open_cache(self._flags)

    def client(self, context: str = ""):
        """A client of the cluster the flags name (or that context's), for requests beyond discovery (scan's lists
        and metrics)."""
        from kubectl_apiinfo.console import warn
        from kubectl_apiinfo.errors import UserError
        from kubectl_apiinfo.kube.transport import Client
        from kubectl_apiinfo.sources.cluster.access import load_access

        access = load_access(self._flags.replace(context=context) if context else self._flags)
        if access is None:
            raise UserError("no cluster is configured: the kubeconfig names no current context")
        if access.insecure_skip_tls_verify:
            warn(f"the kubeconfig sets insecure-skip-tls-verify for {access.display_server}: its certificate is not checked")
        return Client(access, self._flags.request_timeout)

    def explain_source(self):
        """Like source(schemas=True), for explain: a source whose schemas can answer."""
        from kubectl_apiinfo.sources import select

        return select.for_explain(self._flags, self._kube_version)

    def release(self, name: str):
        from kubectl_apiinfo.sources import select

        return select.release(name)

    def context(self, flags, context: str):
        """A cached context's source, with its schemas (diff's sides)."""
        from kubectl_apiinfo.sources import select

        return select.for_query(flags, schemas=True, context=context)

    def cached_contexts(self) -> list:
        from kubectl_apiinfo.sources import select

        return select.cached_contexts(self._flags)


class FixedSources(Factory):
    """Every question answered by the sources given (by context name for diff; None for the default),
    and the output collected in .printed."""

    def __init__(self, options, source, contexts: Optional[dict] = None):
        self.printed: list = []
        super().__init__(options, self.printed.append)
        self.fixed = source
        self.contexts = dict(contexts or {})

    def source(self, words: Optional[list] = None, schemas: bool = False):
        return self.fixed

    def explain_source(self):
        return self.fixed

    def cluster(self, context: str = ""):
        return self.contexts[context] if context else self.fixed

    def context(self, flags, context: str):
        return self.contexts[context]

    def cached_contexts(self) -> list:
        return list(self.contexts.values())
