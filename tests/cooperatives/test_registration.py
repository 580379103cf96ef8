"""Self-service registration at /cooperatives/apply/: sign in first, one
transaction creates the Partner (not selling), the Cooperative (applied) and
the applicant's manager Membership; bad input gets a clear message and keeps
what was typed; someone who already belongs to a cooperative sees its status
(and, after a rejection, the reason and a form to correct and re-apply)."""

import pytest
from django.urls import reverse
from oscar.core.loading import get_model
from stdnum.cn import uscc

from cooperatives import services
from cooperatives.forms import RegistrationForm, normalise_phone
from cooperatives.models import Cooperative, Membership, StatusChange
from tests.cooperatives import imagefiles
from tests.cooperatives.conftest import make_cooperative, manager_of

Partner = get_model("partner", "Partner")

CODE = "93120111MA05X9876"
CODE += uscc.calc_check_digit(CODE)
LEGAL_NAME = "天津市西青区辛口镇上辛口村蔬菜种植专业合作社"

# 天津市 → 市辖区 → 西青区 → 辛口镇 → 上辛口村委会 (real NBS codes).
LOCATION = {
    "province": "12",
    "city": "1201",
    "county": "120111",
    "town": "120111102",
    "village": "120111102201",
}


def application(**overrides) -> dict:
    data = {
        "legal_name": LEGAL_NAME,
        "display_name": "上辛口蔬菜合作社",
        "credit_code": CODE,
        "legal_representative": "李春生",
        "contact_phone": "138 1234 5678",
        **LOCATION,
        "address_detail": "上辛口村东 12 号",
        "description": "种植沙窝萝卜和黄瓜。",
        "business_licence": imagefiles.jpeg(),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def applicant(django_user_model):
    return django_user_model.objects.create_user("liu", "liu@example.com", "pw-apply-123")


@pytest.fixture
def applicant_client(client, applicant):
    client.force_login(applicant)
    return client


def apply(client, **overrides):
    return client.post(reverse("cooperatives:apply"), application(**overrides))


def counts() -> tuple[int, int, int]:
    return Partner.objects.count(), Cooperative.objects.count(), Membership.objects.count()


# --- Signing in ------------------------------------------------------------------


@pytest.mark.django_db
def test_sign_in_or_register_first(client):
    response = client.get(reverse("cooperatives:apply"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('customer:login')}?next=/cooperatives/apply/"


@pytest.mark.django_db
def test_form_shows_every_field(applicant_client):
    html = applicant_client.get(reverse("cooperatives:apply")).content.decode()
    for label in [
        "法定名称",
        "简称",
        "统一社会信用代码",
        "法定代表人",
        "联系电话",
        "省份",
        "乡镇/街道",
        "村/社区",
        "营业执照照片",
    ]:
        assert label in html, label
    assert 'enctype="multipart/form-data"' in html
    assert "divisions/picker.js" in html and "data-division-picker" in html


# --- A successful application -------------------------------------------------------


@pytest.mark.django_db
def test_apply_creates_partner_cooperative_and_manager_membership(applicant_client, applicant):
    response = apply(applicant_client)
    assert response.status_code == 302
    assert response["Location"] == reverse("cooperatives:apply-done")

    coop = Cooperative.objects.get(credit_code=CODE)
    assert coop.status == Cooperative.Status.APPLIED
    assert coop.applied_by == applicant
    assert coop.entity_type == "93"
    assert coop.division_id == "120111102201"
    assert coop.contact_phone == "13812345678"
    assert coop.legal_name == LEGAL_NAME and coop.display_name == "上辛口蔬菜合作社"
    assert coop.business_licence.name.startswith("cooperatives/licences/")
    assert coop.business_licence.name.endswith(".jpg")
    assert coop.partner.name == LEGAL_NAME
    assert coop.partner.is_selling is False
    membership = Membership.objects.get(user=applicant)
    assert membership.cooperative == coop and membership.is_manager

    done = applicant_client.get(response["Location"]).content.decode()
    assert "接下来会怎样" in done
    assert "农民专业合作社（93）" in done


@pytest.mark.django_db
def test_the_town_is_enough(applicant_client):
    assert apply(applicant_client, village="").status_code == 302
    assert Cooperative.objects.get().division_id == "120111102"


@pytest.mark.django_db
def test_lowercase_code_with_spaces_and_a_landline(applicant_client):
    spaced = f"{CODE[:8]} {CODE[8:]}".lower()
    assert (
        apply(applicant_client, credit_code=spaced, contact_phone="(022) 2739-1234").status_code
        == 302
    )
    coop = Cooperative.objects.get()
    assert coop.credit_code == CODE
    assert coop.contact_phone == "022-27391234"


@pytest.mark.django_db
def test_company_and_individual_business_codes_are_accepted(
    applicant_client, django_user_model, client
):
    company = "91120116MA05Y1111"
    company += uscc.calc_check_digit(company)
    assert apply(applicant_client, credit_code=company).status_code == 302
    assert Cooperative.objects.get(credit_code=company).entity_type == "91"

    other = django_user_model.objects.create_user("zhao", "zhao@example.com", "pw-apply-123")
    client.force_login(other)
    individual = "92120116MA05Y2222"
    individual += uscc.calc_check_digit(individual)
    assert apply(client, credit_code=individual).status_code == 302
    assert Cooperative.objects.get(credit_code=individual).entity_type == "92"


# --- Bad input ---------------------------------------------------------------------


def errors_page(response) -> str:
    assert response.status_code == 200
    html = response.content.decode()
    assert "申请还有需要修改的地方" in html
    return html


@pytest.mark.django_db
def test_wrong_check_character(applicant_client):
    bad = CODE[:-1] + ("0" if CODE[-1] != "0" else "1")
    html = errors_page(apply(applicant_client, credit_code=bad))
    assert "最后一位校验码不正确" in html
    assert counts() == (0, 0, 0)
    # What was typed is still there.
    assert f'value="{bad}"' in html
    assert f'value="{LEGAL_NAME}"' in html
    assert 'value="120111102201" selected' in html
    assert "请重新选择营业执照照片" in html


@pytest.mark.django_db
def test_code_of_a_type_we_do_not_take(applicant_client):
    government = "11120000000013127"
    government += uscc.calc_check_digit(government)
    html = errors_page(apply(applicant_client, credit_code=government))
    assert "该代码不属于农民专业合作社（93）、企业（91）或个体工商户（92）" in html
    assert counts() == (0, 0, 0)


@pytest.mark.django_db
def test_duplicate_code(applicant_client, coop_a):
    before = counts()
    html = errors_page(apply(applicant_client, credit_code=coop_a.credit_code.lower()))
    assert "该统一社会信用代码已登记" in html
    assert counts() == before


@pytest.mark.django_db
def test_valid_code_is_named_when_other_fields_are_wrong(applicant_client):
    html = errors_page(apply(applicant_client, contact_phone="12345"))
    assert "请填写手机号码或带区号的固定电话" in html
    assert "代码校验通过，主体类型：农民专业合作社（93）" in html


@pytest.mark.django_db
def test_location_must_reach_the_town(applicant_client):
    html = errors_page(apply(applicant_client, town="", village=""))
    assert "合作社的所在地至少要选到乡镇一级" in html
    assert counts() == (0, 0, 0)


@pytest.mark.django_db
def test_village_outside_the_town(applicant_client):
    # 120112100201 (东张庄村委会) lies in 津南区, not in 辛口镇.
    html = errors_page(apply(applicant_client, village="120112100201"))
    assert "所选村/社区不属于所选乡镇/街道" in html


@pytest.mark.django_db
def test_missing_licence_and_required_fields(applicant_client):
    html = errors_page(apply(applicant_client, business_licence=None, legal_name=""))
    assert "请上传营业执照照片" in html
    assert "请填写合作社的法定名称" in html


@pytest.mark.django_db
def test_narrowing_without_javascript_keeps_everything_and_saves_nothing(applicant_client):
    data = application(town="", village="", business_licence=None)
    data["_narrow"] = "county"
    response = applicant_client.post(reverse("cooperatives:apply"), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "申请还有需要修改的地方" not in html
    assert "辛口镇" in html  # the towns of 西青区 are offered now
    assert f'value="{CODE}"' in html
    assert counts() == (0, 0, 0)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("13812345678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("022-27391234", "022-27391234"),
        ("（022）27391234", "022-27391234"),
        ("010 6551 2345", "010-65512345"),
        ("0317-5123456", "0317-5123456"),
        ("022-27391234 转 806", "022-27391234-806"),
        ("12345", None),
        ("27391234", None),
        ("022-1234", None),
    ],
)
def test_phone_numbers(typed, stored):
    assert normalise_phone(typed) == stored


# --- Coming back -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_member_sees_the_status_instead_of_the_form(client, coop_a):
    client.force_login(manager_of(coop_a))
    html = client.get(reverse("cooperatives:apply")).content.decode()
    assert "入驻申请进度" in html and "已认证" in html
    assert 'name="credit_code"' not in html
    # A POST cannot start a second application.
    response = apply(client)
    assert response.status_code == 302
    assert Cooperative.objects.count() == 1


@pytest.mark.django_db
def test_rejected_applicant_sees_the_reason_and_can_reapply(
    applicant_client, applicant, staff_user
):
    apply(applicant_client)
    coop = Cooperative.objects.get()
    services.reject(coop, by=staff_user, reason="营业执照照片模糊，无法辨认信用代码")

    html = applicant_client.get(reverse("cooperatives:apply")).content.decode()
    assert "未通过" in html
    assert "营业执照照片模糊，无法辨认信用代码" in html
    assert f'value="{LEGAL_NAME}"' in html  # the form, filled in, to correct

    response = apply(
        applicant_client, business_licence=imagefiles.png("clear.png"), display_name="上辛口菜社"
    )
    assert response.status_code == 302
    coop.refresh_from_db()
    assert coop.status == Cooperative.Status.APPLIED
    assert coop.display_name == "上辛口菜社"
    assert coop.business_licence.name.endswith(".png")
    assert Cooperative.objects.count() == 1 and Partner.objects.count() == 1
    last = StatusChange.objects.filter(cooperative=coop).first()
    assert (last.from_status, last.to_status, last.changed_by) == ("rejected", "applied", applicant)


@pytest.mark.django_db
def test_reapplying_may_keep_the_licence(applicant_client, staff_user):
    apply(applicant_client)
    coop = Cooperative.objects.get()
    licence = coop.business_licence.name
    services.reject(coop, by=staff_user, reason="简称不规范")
    assert apply(applicant_client, business_licence=None).status_code == 302
    coop.refresh_from_db()
    assert coop.business_licence.name == licence and coop.status == "applied"


@pytest.mark.django_db
def test_the_same_code_twice_in_a_race_is_a_form_error(applicant_client, monkeypatch):
    """Another applicant saved the code between our check and our insert."""
    original = RegistrationForm._post_clean

    def validated_then_overtaken(self):
        original(self)
        make_cooperative("抢先一步的合作社", credit_prefix=CODE[:17])

    monkeypatch.setattr(RegistrationForm, "_post_clean", validated_then_overtaken)
    before_partners = Partner.objects.count()
    html = errors_page(apply(applicant_client))
    assert "该统一社会信用代码已登记" in html
    # Only the other applicant's rows exist.
    assert Partner.objects.count() == before_partners + 1
    assert Cooperative.objects.count() == 1


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user(
        "reviewer", "reviewer@example.com", "pw-staff-123", is_staff=True
    )
