"""Tianjin's administrative villages as the NBS data names them: 3,532
villagers' committees (3,422 named …村委会, 108 …村民委员会, 2 …（村委会）),
against 2,085 urban residents' committees."""

import pytest

from divisions.models import Division
from stations.coverage import administrative_villages

pytestmark = pytest.mark.django_db


def test_tianjin_has_3532_administrative_villages(china):
    villages = administrative_villages()
    assert villages.count() == 3532
    every = Division.objects.filter(level=Division.Level.VILLAGE, code__startswith="12")
    assert every.count() == 5617
    # The query and the model's property agree on every village-level unit.
    by_property = {
        d.code for d in every.only("code", "name", "level") if d.is_administrative_village
    }
    assert by_property == set(villages.values_list("code", flat=True))
    assert villages.filter(name__endswith="村民委员会").count() == 108
