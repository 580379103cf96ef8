"""Unified social credit codes (统一社会信用代码, GB 32100-2015).

The check character is verified by python-stdnum (``stdnum.cn.uscc``). The
first two characters say what kind of body registered it; the platform
accepts farmer cooperatives (93), companies (91) and individual businesses
(92).
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength


class EntityType(models.TextChoices):
    FARMER_COOPERATIVE = "93", _("农民专业合作社")
    COMPANY = "91", _("企业")
    INDIVIDUAL_BUSINESS = "92", _("个体工商户")


def normalise(code: str) -> str:
    """Upper-case, without spaces or dashes."""
    return uscc.compact(code or "")


def validate_credit_code(value: str) -> str:
    """Return the normalised code, or raise ValidationError with a clear
    Chinese message saying what is wrong."""
    code = normalise(value)
    try:
        uscc.validate(code)
    except InvalidLength:
        raise ValidationError(_("统一社会信用代码应为 18 位，请核对营业执照。"), code="length")
    except InvalidChecksum:
        raise ValidationError(
            _("统一社会信用代码的最后一位校验码不正确，请逐位核对营业执照。"), code="checksum"
        )
    except (InvalidFormat, InvalidComponent):
        raise ValidationError(
            _("统一社会信用代码格式不正确：只能包含数字和大写字母（不含 I、O、Z、S、V）。"),
            code="format",
        )
    if code[:2] not in EntityType.values:
        raise ValidationError(
            _("该代码不属于农民专业合作社（93）、企业（91）或个体工商户（92），平台暂不接受。"),
            code="type",
        )
    return code


def entity_type_of(code: str) -> str:
    return normalise(code)[:2]
