"""China as Oscar's (only) shipping country.

Oscar's addresses need an address.Country row; the Chinese address form sets
it without showing a field. One definition, used by load_demo and the tests.
"""

from oscar.core.loading import get_model

CHINA = {
    "iso_3166_1_a2": "CN",
    "iso_3166_1_a3": "CHN",
    "iso_3166_1_numeric": "156",
    "name": "中国",
    "printable_name": "中国",
    "is_shipping_country": True,
}


def ensure_china():
    """Return the China Country row, creating it or marking it shippable.

    Returns ``(country, created)``."""
    Country = get_model("address", "Country")
    defaults = {k: v for k, v in CHINA.items() if k != "iso_3166_1_a2"}
    country, created = Country.objects.get_or_create(
        iso_3166_1_a2=CHINA["iso_3166_1_a2"], defaults=defaults
    )
    if not created and not country.is_shipping_country:
        country.is_shipping_country = True
        country.save(update_fields=["is_shipping_country"])
    return country, created
