from django.http import Http404, JsonResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from divisions import services


@require_GET
@cache_control(public=True, max_age=86400)
def children_json(request, code: str | None = None):
    """Children of a division as JSON, for the address picker's script."""
    if code is not None and (not code.isdigit() or services.get_name(code) is None):
        raise Http404
    return JsonResponse({"children": [{"code": c, "name": n} for c, n in services.children(code)]})
