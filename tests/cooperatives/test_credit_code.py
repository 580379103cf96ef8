"""Unified social credit codes (GB 32100-2015): the check character, the
entity types the platform takes (93 farmer cooperatives, 91 companies, 92
individual businesses) and normalisation, in the validator and in the
registration form."""

import pytest
from django.core.exceptions import ValidationError
from stdnum.cn import uscc

from cooperatives.credit_code import EntityType, entity_type_of, normalise, validate_credit_code
from cooperatives.forms import RegistrationForm, entity_type_label


def code(prefix17: str) -> str:
    return prefix17 + uscc.calc_check_digit(prefix17)


# Bank of China's published code, and codes completed with the GB 32100
# check character for each type the platform accepts.
COMPANY = "91110000600037341L"
COOPERATIVE = code("93120111MA05L1234")
INDIVIDUAL = code("92120116MA06B7X8Q")
KNOWN_VALID = [
    (COMPANY, EntityType.COMPANY),
    (COOPERATIVE, EntityType.FARMER_COOPERATIVE),
    (INDIVIDUAL, EntityType.INDIVIDUAL_BUSINESS),
    (code("93120117MA06K5678"), EntityType.FARMER_COOPERATIVE),
    (code("91120000103000000"), EntityType.COMPANY),
]


def wrong_check(valid: str) -> str:
    """The same code with any other check character."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    return valid[:-1] + next(c for c in alphabet if c != valid[-1])


def error_code(value: str) -> str:
    with pytest.raises(ValidationError) as info:
        validate_credit_code(value)
    return info.value.code


@pytest.mark.parametrize(("value", "kind"), KNOWN_VALID)
def test_known_valid_codes_pass_and_report_their_type(value, kind):
    assert validate_credit_code(value) == value
    assert entity_type_of(value) == kind


def test_bank_of_china_code_is_a_company():
    assert validate_credit_code(COMPANY) == COMPANY
    assert entity_type_label(COMPANY) == "企业（91）"
    assert entity_type_label(COOPERATIVE) == "农民专业合作社（93）"
    assert entity_type_label(INDIVIDUAL) == "个体工商户（92）"


@pytest.mark.parametrize("value", [v for v, _k in KNOWN_VALID])
def test_a_wrong_check_character_fails_with_the_checksum_message(value):
    bad = wrong_check(value)
    with pytest.raises(ValidationError) as info:
        validate_credit_code(bad)
    assert info.value.code == "checksum"
    assert "校验码不正确" in info.value.messages[0]


def test_two_swapped_characters_fail():
    swapped = COOPERATIVE[:9] + COOPERATIVE[10] + COOPERATIVE[9] + COOPERATIVE[11:]
    assert swapped != COOPERATIVE
    assert error_code(swapped) == "checksum"


@pytest.mark.parametrize(
    "prefix17",
    [
        "11100000000013127",  # 机关 (government body)
        "12120000401359321",  # 事业单位 (public institution)
        "51110000500000000",  # 社会团体 (association)
        "52110000500000000",  # 民办非企业单位
        "71120000MA0512345",  # 宗教活动场所
    ],
)
def test_other_types_are_rejected_with_the_type_message(prefix17):
    value = code(prefix17)
    assert uscc.is_valid(value)  # a well-formed code, just not a type we take
    with pytest.raises(ValidationError) as info:
        validate_credit_code(value)
    assert info.value.code == "type"
    assert "农民专业合作社（93）、企业（91）或个体工商户（92）" in info.value.messages[0]


def test_letter_authority_codes_are_refused():
    """GB 32100 also allows letters for the registering authority (N2 农村
    集体经济组织); python-stdnum, and so the platform, refuses them."""
    assert error_code(code("N2120111MA0512345")) == "format"


@pytest.mark.parametrize("value", ["", "9312011", COOPERATIVE + "1", COOPERATIVE[:-1]])
def test_wrong_length(value):
    assert error_code(value) == "length"


def test_wrong_length_message():
    with pytest.raises(ValidationError) as info:
        validate_credit_code("93120111MA05")
    assert info.value.messages == ["统一社会信用代码应为 18 位，请核对营业执照。"]


@pytest.mark.parametrize("value", ["93120111MA05L123I", "9312O111MA05L1234", "93120111MA05L12-!"])
def test_letters_outside_the_alphabet_are_a_format_error(value):
    assert error_code(value) in {"format", "length"}


def test_lowercase_spaces_and_dashes_are_normalised():
    spaced = " ".join([COOPERATIVE[:2], COOPERATIVE[2:8], COOPERATIVE[8:]]).lower()
    assert normalise(spaced) == COOPERATIVE
    assert validate_credit_code(spaced) == COOPERATIVE
    assert validate_credit_code(f"  {COMPANY[:8]}-{COMPANY[8:]}  ".lower()) == COMPANY


# --- In the registration form ---------------------------------------------------


def form_errors(value: str) -> list[str]:
    form = RegistrationForm(data={"credit_code": value})
    form.is_valid()
    return form.errors.get("credit_code", [])


@pytest.mark.django_db
def test_form_normalises_and_names_the_type():
    form = RegistrationForm(data={"credit_code": COOPERATIVE.lower()})
    form.is_valid()
    assert "credit_code" not in form.errors
    assert form.cleaned_data["credit_code"] == COOPERATIVE
    assert form.entity_type_label == "农民专业合作社（93）"
    assert form.instance.entity_type == "93"


@pytest.mark.django_db
def test_form_messages_for_bad_codes():
    assert "校验码不正确" in form_errors(wrong_check(COOPERATIVE))[0]
    assert "平台暂不接受" in form_errors(code("51110000500000000"))[0]
    assert form_errors("123") == ["统一社会信用代码应为 18 位，请核对营业执照。"]
    assert form_errors("") == ["请填写统一社会信用代码"]
