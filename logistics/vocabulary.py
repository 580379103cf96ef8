"""Words logistics shares with forms, templates, adapters and the simulator:
carrier services, temperature classes and tracking statuses."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from shop.catalogue.produce import StorageClass


class Service(models.TextChoices):
    EXPRESS = "express", _("快递")
    POSTAL = "postal", _("邮政")
    COLD_CHAIN = "cold_chain", _("冷链")
    LOCAL_COURIER = "local_courier", _("同城配送")
    STATION_DELIVERY = "station_delivery", _("送村服务站")


# Which services may carry goods of each temperature class, best first.
# Chilled and frozen goods need a cold chain; ambient goods go by anything
# else (to a station, the station run first).
AMBIENT_SERVICES = (
    Service.LOCAL_COURIER,
    Service.EXPRESS,
    Service.POSTAL,
)
STATION_AMBIENT_SERVICES = (Service.STATION_DELIVERY, *AMBIENT_SERVICES)


def services_for(temperature: str, *, to_station: bool = False) -> tuple[str, ...]:
    """The services that may carry goods of ``temperature``, best first."""
    if temperature in (StorageClass.CHILLED, StorageClass.FROZEN):
        return (Service.COLD_CHAIN,)
    return STATION_AMBIENT_SERVICES if to_station else AMBIENT_SERVICES


def needs_cold_chain(temperature: str) -> bool:
    return temperature in (StorageClass.CHILLED, StorageClass.FROZEN)


class TrackingStatus(models.TextChoices):
    """What a carrier says about a parcel. The generic protocol uses these
    codes (docs/carrier-protocol.md)."""

    ACCEPTED = "accepted", _("承运商已接单")
    PICKED_UP = "picked_up", _("已揽收")
    IN_TRANSIT = "in_transit", _("运输中")
    EXCEPTION = "exception", _("异常")
    OUT_FOR_DELIVERY = "out_for_delivery", _("派送中")
    DELIVERED = "delivered", _("已签收")
    RETURNED = "returned", _("已退回")
    CANCELLED = "cancelled", _("已取消")


# A carrier's word on a parcel never moves it backwards once it has ended.
FINAL_TRACKING = frozenset(
    {TrackingStatus.DELIVERED, TrackingStatus.RETURNED, TrackingStatus.CANCELLED}
)
# How far along each status is, to order events with the same timestamp.
TRACKING_RANK = {
    TrackingStatus.ACCEPTED: 1,
    TrackingStatus.PICKED_UP: 2,
    TrackingStatus.IN_TRANSIT: 3,
    TrackingStatus.EXCEPTION: 4,
    TrackingStatus.OUT_FOR_DELIVERY: 5,
    TrackingStatus.DELIVERED: 6,
    TrackingStatus.RETURNED: 7,
    TrackingStatus.CANCELLED: 8,
}
# The goods have left the cooperative.
ON_THE_WAY = frozenset(
    {
        TrackingStatus.PICKED_UP,
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.EXCEPTION,
        TrackingStatus.OUT_FOR_DELIVERY,
    }
)
