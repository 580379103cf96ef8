from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from divisions import services


@require_GET
@cache_control(public=True, max_age=86400)
def children_json(request: HttpRequest, code: str | None = None) -> JsonResponse:
    """Children of a division as JSON, for the address picker's script.

    ``name`` is the official name, ``label`` what a select should show (a
    municipality's 市辖区 is labelled with the municipality's own name).
    """
    if code is not None and (not code.isdigit() or services.get_name(code) is None):
        raise Http404
    names = dict(services.children(code))
    return JsonResponse(
        {
            "children": [
                {"code": c, "name": names[c], "label": lbl}
                for c, lbl in services.child_choices(code)
            ]
        }
    )
