"""Consumer complaints (cooperatives/complaints.py and its pages): who may
open one and when, photos through the one upload validator, the
cooperative's answer, overdue flagging at the deadline, staff refunds that
post a Refund and a ledger entry, the timeline, portal isolation and the
public record figures."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from oscar.core.loading import get_model

from cooperatives import complaints, fulfilment
from cooperatives.complaint_tasks import flag_overdue_complaints
from cooperatives.models import Complaint, ComplaintEvent, FulfilmentEvent
from shop.payment import ledger
from shop.payment.models import JournalEntry, Refund
from tests.cooperatives.conftest import manager_of
from tests.cooperatives.photos import small_jpeg
from tests.payment.refund_orders import cod_order, cooperatives, owed_to, produce

pytestmark = pytest.mark.django_db

User = get_model("auth", "User")
Action = ComplaintEvent.Action


@pytest.fixture
def shop(china, carriers):
    radish_coop, crab_coop = cooperatives()
    goods = produce(radish_coop, crab_coop)
    return {**goods, "radish_coop": radish_coop, "crab_coop": crab_coop}


@pytest.fixture
def buyer(db):
    return User.objects.create_user("buyer", "buyer@example.com", "pw")


@pytest.fixture
def staff(db):
    return User.objects.create_user("arbiter", "arbiter@example.com", "pw", is_staff=True)


@pytest.fixture
def order(shop, buyer):
    return cod_order([(shop["radish"], 2), (shop["crab"], 1)], user=buyer)


def line_of(order, title):
    return order.lines.get(title=title)


def file_one(buyer, line, **kwargs):
    kwargs.setdefault("kind", Complaint.Kind.DAMAGED)
    kwargs.setdefault("description", "萝卜到货时压坏了一半")
    return complaints.open_complaint(buyer, line, **kwargs)


# --- Opening ---------------------------------------------------------------------------------


def test_buyer_opens_a_complaint_with_photos(order, buyer, shop):
    line = line_of(order, "沙窝萝卜")
    c = file_one(buyer, line, photos=[small_jpeg("a.jpg"), small_jpeg("b.jpg")])
    assert c.cooperative == shop["radish_coop"]
    assert c.status == Complaint.Status.OPEN
    assert c.deadline == c.created_at + timedelta(hours=48)
    assert c.photos.count() == 2
    assert [e.action for e in c.events.all()] == [Action.OPENED]


def test_only_the_buyer_may_complain(order, shop):
    stranger = User.objects.create_user("stranger", "s@example.com", "pw")
    with pytest.raises(ValidationError):
        file_one(stranger, line_of(order, "沙窝萝卜"))
    assert not Complaint.objects.exists()


def test_window_after_the_order_when_not_delivered(order, buyer):
    line = line_of(order, "沙窝萝卜")
    late = order.date_placed + timedelta(days=15, minutes=1)
    with pytest.raises(ValidationError) as exc:
        file_one(buyer, line, now=late)
    assert "已超过投诉期限（收货后 15 天）" in exc.value.messages[0]
    file_one(buyer, line, now=order.date_placed + timedelta(days=14))


def test_window_counts_from_delivery(order, buyer):
    line = line_of(order, "沙窝萝卜")
    FulfilmentEvent.objects.create(
        line=line,
        from_status=fulfilment.SHIPPED,
        to_status=fulfilment.DELIVERED,
        changed_at=order.date_placed + timedelta(days=10),
    )
    file_one(buyer, line, now=order.date_placed + timedelta(days=24))


def test_one_unresolved_complaint_per_line(order, buyer, staff):
    line = line_of(order, "沙窝萝卜")
    first = file_one(buyer, line)
    with pytest.raises(ValidationError) as exc:
        file_one(buyer, line)
    assert "已有一个处理中的投诉" in exc.value.messages[0]
    file_one(buyer, line_of(order, "七里海河蟹"))
    complaints.staff_reject(first, by=staff, reason="照片显示包装完好")
    file_one(buyer, line)


def test_photos_go_through_the_upload_validator(order, buyer):
    line = line_of(order, "沙窝萝卜")
    fake = SimpleUploadedFile("x.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg")
    with pytest.raises(ValidationError) as exc:
        file_one(buyer, line, photos=[fake])
    assert "photos" in exc.value.message_dict
    with pytest.raises(ValidationError):
        file_one(buyer, line, photos=[small_jpeg(f"{i}.jpg") for i in range(5)])
    assert not Complaint.objects.exists()


# --- Answers, escalation, overdue -------------------------------------------------------------


def test_cooperative_replies_and_buyer_escalates(order, buyer, shop):
    c = file_one(buyer, line_of(order, "沙窝萝卜"))
    manager = manager_of(shop["radish_coop"])
    c = complaints.cooperative_answer(c, by=manager, action="replacement", text="明天补发一箱")
    assert c.status == Complaint.Status.ANSWERED
    assert c.resolution == Complaint.Resolution.REPLACEMENT
    assert c.answered_at is not None
    c = complaints.escalate(c, by=buyer, text="补发的也坏了")
    assert c.status == Complaint.Status.ESCALATED
    assert [(e.actor, e.action) for e in c.events.all()] == [
        ("buyer", Action.OPENED),
        ("cooperative", Action.REPLACEMENT),
        ("buyer", Action.ESCALATED),
    ]
    with pytest.raises(ValidationError):
        complaints.cooperative_answer(c, by=manager, action="reply", text="晚了")


def test_escalation_needs_an_answer_first(order, buyer):
    c = file_one(buyer, line_of(order, "沙窝萝卜"))
    with pytest.raises(ValidationError):
        complaints.escalate(c, by=buyer)


def test_cooperative_refunds_within_its_limit(order, buyer, shop):
    line = line_of(order, "沙窝萝卜")
    c = file_one(buyer, line)
    manager = manager_of(shop["radish_coop"])
    before = owed_to(shop["radish_coop"].partner)
    c = complaints.cooperative_answer(c, by=manager, action="refund", text="退一半", amount=1000)
    assert c.status == Complaint.Status.RESOLVED
    assert c.refund.amount == 1000
    assert owed_to(shop["radish_coop"].partner) < before
    assert ledger.trial_balance() == 0


def test_overdue_flagged_at_the_deadline(order, buyer):
    c = file_one(buyer, line_of(order, "沙窝萝卜"))
    assert complaints.flag_overdue(now=c.deadline - timedelta(seconds=1)) == 0
    assert complaints.flag_overdue(now=c.deadline) == 1
    c.refresh_from_db()
    assert c.status == Complaint.Status.ESCALATED
    assert c.overdue_at == c.deadline
    last = c.events.last()
    assert (last.actor, last.action) == ("system", Action.OVERDUE)
    assert complaints.flag_overdue(now=c.deadline + timedelta(hours=1)) == 0


def test_answered_complaints_are_not_overdue(order, buyer, shop):
    c = file_one(buyer, line_of(order, "沙窝萝卜"))
    complaints.cooperative_answer(c, by=manager_of(shop["radish_coop"]), action="reply", text="好")
    assert complaints.flag_overdue(now=c.deadline + timedelta(hours=1)) == 0


def test_periodic_task_is_scheduled(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["cooperatives-flag-overdue-complaints"]
    assert entry == {"task": "cooperatives.flag_overdue_complaints", "schedule": 900.0}
    assert "cooperatives.complaint_tasks" in settings.CELERY_IMPORTS
    assert flag_overdue_complaints.name == "cooperatives.flag_overdue_complaints"


# --- Staff arbitration ------------------------------------------------------------------------


def test_staff_refund_posts_a_refund_and_a_ledger_entry(order, buyer, staff, shop):
    line = line_of(order, "沙窝萝卜")
    c = file_one(buyer, line)
    complaints.flag_overdue(now=c.deadline)
    partner = shop["radish_coop"].partner
    before = owed_to(partner)
    paid = complaints.line_refundable(c)
    c.refresh_from_db()
    c = complaints.staff_refund(
        c,
        by=staff,
        amount=paid,
        reason="合作社逾期，平台退款",
        token=uuid.uuid4(),
        now=c.deadline + timedelta(hours=1),
    )
    assert c.status == Complaint.Status.RESOLVED
    assert c.resolution == Complaint.Resolution.REFUND
    refund = Refund.objects.get(order=order)
    assert c.refund == refund and refund.amount == paid
    assert JournalEntry.objects.filter(kind="refund", reference=order.number).exists()
    assert ledger.trial_balance() == 0
    assert owed_to(partner) < before
    assert [e.action for e in c.events.all()] == [Action.OPENED, Action.OVERDUE, Action.REFUNDED]
    with pytest.raises(ValidationError):
        complaints.staff_reject(c, by=staff, reason="重复")


def test_staff_reject_needs_a_reason(order, buyer, staff):
    c = file_one(buyer, line_of(order, "沙窝萝卜"))
    with pytest.raises(ValidationError):
        complaints.staff_reject(c, by=staff, reason=" ")
    c = complaints.staff_reject(c, by=staff, reason="与订单无关")
    assert c.resolution == Complaint.Resolution.REJECTED
    assert c.events.last().text == "与订单无关"


# --- Public record ----------------------------------------------------------------------------


def test_cooperative_record(order, buyer, shop):
    coop = shop["radish_coop"]
    assert complaints.cooperative_record(coop).count == 0
    now = timezone.now()
    a = file_one(buyer, line_of(order, "沙窝萝卜"), now=now)
    complaints.cooperative_answer(
        a, by=manager_of(coop), action="reply", text="已联系", now=now + timedelta(hours=6)
    )
    other = cod_order([(shop["radish"], 1)], user=buyer)
    b = file_one(buyer, other.lines.get(), now=now)
    complaints.flag_overdue(now=b.deadline)
    record = complaints.cooperative_record(coop, now=now + timedelta(days=3))
    assert record.count == 2
    assert record.answered_in_time == 0.5
    assert record.median_response_hours == 6.0
    assert complaints.cooperative_record(coop, now=now + timedelta(days=400)).count == 0


# --- Pages ------------------------------------------------------------------------------------


def test_order_page_links_each_line_to_a_complaint(client, order, buyer):
    client.force_login(buyer)
    page = client.get(f"/accounts/orders/{order.number}/").content.decode()
    for line in order.lines.all():
        assert f"/complaints/new/{line.pk}/" in page


def test_someone_elses_line_is_404(client, order):
    stranger = User.objects.create_user("stranger", "s@example.com", "pw")
    client.force_login(stranger)
    line = line_of(order, "沙窝萝卜")
    assert client.get(f"/complaints/new/{line.pk}/").status_code == 404
    response = client.post(
        f"/complaints/new/{line.pk}/", {"kind": "damaged", "description": "坏了"}
    )
    assert response.status_code == 404
    assert not Complaint.objects.exists()


def test_buyer_files_through_the_form_and_sees_the_timeline(client, order, buyer):
    client.force_login(buyer)
    line = line_of(order, "沙窝萝卜")
    response = client.post(
        f"/complaints/new/{line.pk}/",
        {"kind": "damaged", "description": "箱子压扁了", "photo1": small_jpeg()},
    )
    c = Complaint.objects.get()
    assert response.status_code == 302 and response.url == f"/complaints/{c.pk}/"
    assert c.photos.count() == 1
    page = client.get(response.url).content.decode()
    assert "箱子压扁了" in page and "提交投诉" in page
    assert "escalate-form" not in page
    # a second complaint on the line goes to the first one
    again = client.get(f"/complaints/new/{line.pk}/")
    assert again.status_code == 302 and again.url == f"/complaints/{c.pk}/"


def test_bad_photo_keeps_the_input(client, order, buyer):
    client.force_login(buyer)
    line = line_of(order, "沙窝萝卜")
    fake = SimpleUploadedFile("x.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg")
    response = client.post(
        f"/complaints/new/{line.pk}/",
        {"kind": "quality", "description": "口感发苦", "photo1": fake},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "口感发苦" in page
    assert not Complaint.objects.exists()


def test_form_after_the_window_says_so(client, order, buyer):
    type(order).objects.filter(pk=order.pk).update(date_placed=timezone.now() - timedelta(days=20))
    client.force_login(buyer)
    line = line_of(order, "沙窝萝卜")
    assert (
        "已超过投诉期限（收货后 15 天）"
        in client.get(f"/complaints/new/{line.pk}/").content.decode()
    )
    response = client.post(
        f"/complaints/new/{line.pk}/", {"kind": "quality", "description": "太晚了的投诉"}
    )
    assert "已超过投诉期限（收货后 15 天）" in response.content.decode()
    assert not Complaint.objects.exists()


def test_buyer_escalates_after_an_answer(client, order, buyer, shop):
    c = file_one(buyer, line_of(order, "沙窝萝卜"))
    complaints.cooperative_answer(
        c, by=manager_of(shop["radish_coop"]), action="reply", text="正常损耗"
    )
    client.force_login(buyer)
    assert "escalate-form" in client.get(f"/complaints/{c.pk}/").content.decode()
    response = client.post(f"/complaints/{c.pk}/escalate/", {"text": "不同意"})
    assert response.status_code == 302
    c.refresh_from_db()
    assert c.status == Complaint.Status.ESCALATED
    other = User.objects.create_user("stranger", "s@example.com", "pw")
    client.force_login(other)
    assert client.get(f"/complaints/{c.pk}/").status_code == 404


def test_portal_lists_and_answers_own_complaints_only(client, order, buyer, shop):
    radish = file_one(buyer, line_of(order, "沙窝萝卜"))
    crab = file_one(buyer, line_of(order, "七里海河蟹"), description="螃蟹死了")
    client.force_login(manager_of(shop["radish_coop"]))
    page = client.get("/coop/complaints/").content.decode()
    assert f"/coop/complaints/{radish.pk}/" in page
    assert f"/coop/complaints/{crab.pk}/" not in page
    assert client.get(f"/coop/complaints/{crab.pk}/").status_code == 404
    assert client.post(f"/coop/complaints/{crab.pk}/", {}).status_code == 404
    form = client.get(f"/coop/complaints/{radish.pk}/").context["form"]
    blank = client.post(
        f"/coop/complaints/{radish.pk}/",
        {"action": "reply", "text": "", "token": form["token"].value()},
    )
    assert blank.status_code == 200
    response = client.post(
        f"/coop/complaints/{radish.pk}/",
        {"action": "replacement", "text": "今天补发", "token": form["token"].value()},
    )
    assert response.status_code == 302
    radish.refresh_from_db()
    assert radish.status == Complaint.Status.ANSWERED


def test_staff_queue_and_refund(client, order, buyer, staff, shop):
    answered = file_one(buyer, line_of(order, "七里海河蟹"))
    complaints.cooperative_answer(
        answered, by=manager_of(shop["crab_coop"]), action="reply", text="看看"
    )
    late = file_one(buyer, line_of(order, "沙窝萝卜"))
    complaints.flag_overdue(now=late.deadline)
    client.force_login(staff)
    page = client.get("/dashboard/complaints/").content.decode()
    assert page.index(f"/dashboard/complaints/{late.pk}/") < page.index(
        f"/dashboard/complaints/{answered.pk}/"
    )
    detail = client.get(f"/dashboard/complaints/{late.pk}/")
    token = detail.context["refund_form"]["token"].value()
    bad = client.post(
        f"/dashboard/complaints/{late.pk}/",
        {"decision": "refund", "amount": "abc", "reason": "逾期", "token": token},
    )
    assert bad.status_code == 200 and "逾期" in bad.content.decode()
    partner = shop["radish_coop"].partner
    before = owed_to(partner)
    response = client.post(
        f"/dashboard/complaints/{late.pk}/",
        {"decision": "refund", "amount": "10.00", "reason": "合作社逾期未答复", "token": token},
    )
    assert response.status_code == 302
    late.refresh_from_db()
    assert late.refund.amount == 1000
    assert ledger.trial_balance() == 0
    assert owed_to(partner) < before
    client.force_login(buyer)
    page = client.get(f"/complaints/{late.pk}/").content.decode()
    assert "10.00" in page and "已解决" in page


def test_staff_pages_are_staff_only(client, order, buyer):
    c = file_one(buyer, line_of(order, "沙窝萝卜"))
    client.force_login(buyer)
    assert client.get("/dashboard/complaints/").status_code in (302, 403)
    assert client.get(f"/dashboard/complaints/{c.pk}/").status_code in (302, 403)


def test_public_page_shows_the_record(client, order, buyer, shop):
    coop = shop["radish_coop"]
    c = file_one(buyer, line_of(order, "沙窝萝卜"))
    complaints.cooperative_answer(c, by=manager_of(coop), action="reply", text="已处理")
    page = client.get(f"/cooperatives/{coop.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'id="complaint-count">1<' in text
    assert "100%" in text
