"""The carriers' tracking webhook: ``POST /logistics/webhooks/<carrier>/``.

Signed like every protocol request (logistics/signing.py) with the
carrier's secret. Refused: unknown carrier (404), unsigned, badly signed or
stale (403), a nonce already used (409, a replay), a body that is not the
protocol's JSON (400). Accepted events are stored once each; events for a
tracking number we do not know yet are kept and reported back.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from logistics import signing, tracking
from logistics.adapters.http import parse_events
from logistics.models import Carrier, TrackingEvent, WebhookNonce

logger = logging.getLogger("wangnong.logistics")


def purge_nonces(now=None) -> int:
    """Forget nonces older than twice the tolerance: a request that old is
    refused for its timestamp anyway."""
    import datetime as dt

    from django.utils import timezone

    cutoff = (now or timezone.now()) - dt.timedelta(seconds=2 * settings.WANGNONG_WEBHOOK_TOLERANCE)
    deleted, _detail = WebhookNonce.objects.filter(received_at__lt=cutoff).delete()
    return deleted


@csrf_exempt
@require_POST
def carrier_webhook(request, code: str):
    carrier = get_object_or_404(Carrier, code=code, adapter=Carrier.Adapter.HTTP)
    body = request.body
    try:
        nonce = signing.verify(
            carrier.api_secret,
            request.headers,
            request.method,
            request.path,
            body,
            tolerance=settings.WANGNONG_WEBHOOK_TOLERANCE,
        )
    except signing.SignatureError as exc:
        logger.warning("Webhook for %s refused: %s", carrier.code, exc)
        return JsonResponse({"error": str(exc)}, status=403)
    try:
        payload = json.loads(body.decode("utf-8"))
        updates = parse_events(payload.get("events") if isinstance(payload, dict) else None)
    except (ValueError, UnicodeDecodeError) as exc:
        logger.warning("Webhook for %s malformed: %s", carrier.code, exc)
        return JsonResponse({"error": f"malformed: {exc}"}, status=400)
    # The nonce and the events commit together: a request that failed half
    # way can be sent again with the same nonce.
    try:
        with transaction.atomic():
            WebhookNonce.objects.create(carrier=carrier, nonce=nonce)
            result = tracking.record(carrier, updates, source=TrackingEvent.Source.WEBHOOK)
    except IntegrityError:
        return JsonResponse({"error": "replayed request"}, status=409)
    return JsonResponse(
        {
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "unknown_tracking_numbers": sorted(set(result.unmatched)),
        }
    )
