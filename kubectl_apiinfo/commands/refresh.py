"""kubectl apiinfo refresh: fetch one context's discovery, or every context's, into the cache."""

from kubectl_apiinfo.answers import listings
from kubectl_apiinfo.console import progress_wanted
from kubectl_apiinfo.errors import UserError
from kubectl_apiinfo.printers import pick
from kubectl_apiinfo.printers.listings import REFRESHED as FORMATS
from kubectl_apiinfo.sources.cluster import many


def run(options, factory) -> None:
    contexts = many.refresh_targets(options.flags, options.all_contexts)
    results = many.refresh_many(options.flags, contexts, show_progress=progress_wanted() and len(contexts) > 1)
    if options.schemas:
        results = [_with_schemas(options, result) for result in results]
    failures = [(c, err) for c, _, err in results if err]
    if len(failures) < len(results):  # a table of nothing but failures would only repeat the error
        factory.out(pick(FORMATS, options.output)(listings.refreshed(results), options.no_headers))
    if failures:
        context, err = failures[0]
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        raise UserError(f"refreshing {context} failed: {err}{more}")


def _with_schemas(options, result: tuple) -> tuple:
    """Every OpenAPI document of a refreshed context, fetched now for explain off the network."""
    from kubectl_apiinfo.sources.openapi import cluster_documents

    context, entry, error = result
    if error is not None:
        return result
    try:
        cluster_documents.refresh_schemas(options.flags.replace(context=context) if options.all_contexts else options.flags)
    except UserError as e:
        return context, entry, f"its schemas: {e}"
    return result
