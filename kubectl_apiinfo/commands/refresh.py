"""kubectl apiinfo refresh: fetch one context's discovery, or every context's, into the cache."""

from kubectl_apiinfo.answers import listings
from kubectl_apiinfo.console import out, progress_wanted
from kubectl_apiinfo.errors import UserError
from kubectl_apiinfo.printers.listings import listing
from kubectl_apiinfo.sources.cluster import many


def run(inv) -> None:
    contexts = many.refresh_targets(inv.flags, inv.all_contexts)
    results = many.refresh_many(inv.flags, contexts, show_progress=progress_wanted() and len(contexts) > 1)
    if inv.schemas:
        results = [_with_schemas(inv, result) for result in results]
    failures = [(c, err) for c, _, err in results if err]
    if len(failures) < len(results):  # a table of nothing but failures would only repeat the error
        out(listing("refreshed", listings.refreshed(results), inv.output, inv.no_headers))
    if failures:
        context, err = failures[0]
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        raise UserError(f"refreshing {context} failed: {err}{more}")


def _with_schemas(inv, result: tuple) -> tuple:
    """Every OpenAPI document of a refreshed context, fetched now for explain off the network."""
    from kubectl_apiinfo.sources.openapi import cluster_documents

    context, entry, error = result
    if error is not None:
        return result
    try:
        cluster_documents.refresh_schemas(inv.flags.replace(context=context) if inv.all_contexts else inv.flags)
    except UserError as e:
        return context, entry, f"its schemas: {e}"
    return result
