"""The machinery of the isolation sweeps (tests/cooperatives/test_isolation.py,
tests/stations/test_isolation.py, and the portals to come): find every URL
of a namespace, fill its keywords with another tenant's ids, read a
response's text, and build a root URLconf with one extra portal view (to
prove a sweep can fail). Each sweep keeps its own mappings and rules."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Iterator

from django.urls import URLResolver, get_resolver, include, path


def namespace_urls(
    namespace_wanted: str, resolver=None, namespace: str = ""
) -> Iterator[tuple[str, list[str]]]:
    """(full url name, keyword names) of every pattern in a namespace."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace
            inner = ":".join(filter(None, [namespace, ns])) if ns else namespace
            yield from namespace_urls(namespace_wanted, entry, inner)
        elif namespace == namespace_wanted or namespace.startswith(namespace_wanted + ":"):
            name = (
                f"{namespace}:{entry.name}"
                if entry.name
                else f"{namespace}:<unnamed {entry.pattern}>"
            )
            yield name, list(entry.pattern.regex.groupindex)


def pk_object(url_name: str, pk_objects: dict[str, str]) -> str | None:
    """The object key for a URL's ``pk``: the longest matching name prefix wins."""
    matches = [prefix for prefix in pk_objects if url_name.startswith(prefix)]
    return pk_objects[max(matches, key=len)] if matches else None


def fill(
    url_name: str,
    kwarg_names: list[str],
    objs: dict,
    pk_objects: dict[str, str],
    kwarg_values: dict[str, Callable[[dict], object]],
) -> tuple[dict | None, str]:
    """The URL's keywords from ``objs``, or (None, what mapping to add)."""
    kwargs = {}
    for kwarg in kwarg_names:
        if kwarg == "pk":
            key = pk_object(url_name, pk_objects)
            if key is None:
                return None, f"add a mapping for {url_name} (its `pk`) to PK_OBJECTS"
            kwargs[kwarg] = objs[key].pk
        elif kwarg in kwarg_values:
            kwargs[kwarg] = kwarg_values[kwarg](objs)
        else:
            return None, f"add a mapping for {url_name} (keyword `{kwarg}`) to KWARG_VALUES"
    return kwargs, ""


def body(response) -> str:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    return content.decode("utf-8", errors="ignore")


def urlconf_with(extra, *, portal_urls, namespace: str, prefix: str) -> str:
    """A root URLconf like the real one whose ``namespace`` portal (mounted
    at ``prefix``) also holds the URL pattern ``extra``; returns its module
    name for ``settings.ROOT_URLCONF``."""
    from config import urls as root

    module_name = f"tests_isolation_urls_{namespace}_{extra.name.replace('-', '_')}"
    module = types.ModuleType(module_name)
    portal_include = include((portal_urls.urlpatterns + [extra], namespace), namespace=namespace)
    module.urlpatterns = [
        path(prefix, portal_include)
        if isinstance(p, URLResolver) and p.namespace == namespace
        else p
        for p in root.urlpatterns
    ]
    module.handler404 = root.handler404
    module.handler500 = root.handler500
    sys.modules[module_name] = module
    return module_name
