"""The public trace page of a harvest batch (/t/<code>/), and the same page
with a parcel's logistics timeline (/t/<code>/<signed parcel token>/).
No personal data: see cooperatives/traceability.py."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from cooperatives import traceability
from cooperatives.views import district_of
from divisions.services import path_names


def _refused(request: HttpRequest, found: traceability.PublicBatch) -> HttpResponse:
    status = 404 if found.refusal == traceability.UNKNOWN else 410
    response = render(
        request, "cooperatives/trace/refused.html", {"message": found.message}, status=status
    )
    response["Cache-Control"] = "no-store"
    return response


def trace(request: HttpRequest, code: str, token: str | None = None) -> HttpResponse:
    found = traceability.public_batch(code)
    if found.batch is None:
        return _refused(request, found)
    batch = found.batch
    parcel = None
    if token is not None:
        parcel = traceability.parcel_timeline(batch, token)
        if parcel is None:
            raise Http404("unknown parcel")
    cooperative = batch.cooperative
    context = {
        "batch": batch,
        "product": batch.product,
        "cooperative": cooperative,
        "origin": " ".join(path_names(batch.village_id)) if batch.village_id else "",
        "district": district_of(cooperative),
        "certifications": list(cooperative.current_certifications()),
        "inputs": list(batch.inputs.all()),
        "inspections": list(batch.inspections.all()),
        "parcel": parcel,
    }
    response = render(request, "cooperatives/trace/batch.html", context)
    if token is not None:
        response["Cache-Control"] = "private, no-store"
        response["X-Robots-Tag"] = "noindex"
    return response
