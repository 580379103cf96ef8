"""A consumer files a complaint, the cooperative misses the deadline, staff
refund it, and the ledger shows it (issue 8, Done means), on a 360 px phone
for the buyer and a tablet for staff.

The order is built with the services (tests/payment/builders.py): a cash on
delivery order of a demo product, delivered by the carrier and its cash
collected; time is advanced by back-dating the complaint's deadline, and
the real periodic task flags it."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone
from PIL import ExifTags, Image
from playwright.sync_api import expect

from cooperatives.complaint_tasks import flag_overdue_complaints
from cooperatives.listings import products_of
from cooperatives.models import Complaint, Cooperative
from shop.payment import accounting
from shop.payment.models import Posting
from tests.browser.conftest import axe_violations
from tests.payment import builders

TABLET = {"width": 1024, "height": 768}
ADMIN_EMAIL = "admin@wangnong.local"
ADMIN_PASSWORD = "wangnong-admin"
BUYER_EMAIL = "complainer@example.com"
BUYER_PASSWORD = "pw-complaint-1"


def _delivered_order():
    coop = Cooperative.objects.filter(status=Cooperative.Status.VERIFIED).order_by("pk").first()
    product = (
        products_of(coop)
        .filter(structure="standalone", stockrecords__num_in_stock__gte=1)
        .order_by("pk")
        .first()
    )
    buyer = get_user_model().objects.create_user(BUYER_EMAIL, BUYER_EMAIL, BUYER_PASSWORD)
    order = builders.quick_order([(product, 2)], source=builders.COD)
    order.user = buyer
    order.guest_email = ""
    order.save()
    builders.deliver(order.lines.all(), at=timezone.now() - timedelta(days=1))
    accounting.record_cod_collected(order)  # the courier took the cash
    return order


def _photo(tmp_path):
    exif = Image.Exif()
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (39.0, 5.0, 0.0), 3: "E", 4: (117.0, 12.0, 0.0)}
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (120, 60, 30)).save(out, "JPEG", exif=exif.tobytes())
    path = tmp_path / "IMG_0001.jpg"
    path.write_bytes(out.getvalue())
    return path


def sign_in(page, email: str, password: str, next_url: str) -> None:
    page.goto(f"/accounts/login/?next={next_url}")
    form = page.locator("#login_form")
    form.get_by_label(re.compile("电子邮件|邮箱")).fill(email)
    form.get_by_label("密码").fill(password)
    form.get_by_role("button", name="登录").click()


def test_complaint_missed_deadline_staff_refund_ledger(new_page, live_server, tmp_path):
    order = _delivered_order()
    line = order.lines.get()

    # The buyer opens the complaint form from the order page and files it.
    buyer = new_page()
    sign_in(buyer, BUYER_EMAIL, BUYER_PASSWORD, f"/accounts/orders/{order.number}/")
    expect(buyer).to_have_url(re.compile(f"/accounts/orders/{order.number}/"))
    buyer.locator("a.complaint-link").first.click()
    form = buyer.locator("#complaint-form")
    expect(form).to_be_visible()
    assert not axe_violations(buyer), axe_violations(buyer)
    form.get_by_label("破损").check()
    form.get_by_label("问题描述").fill("外箱压塌，一半萝卜断了。")
    form.get_by_label("照片 1").set_input_files(str(_photo(tmp_path)))
    form.get_by_role("button", name="提交投诉").click()
    expect(buyer.get_by_role("heading", level=1)).to_contain_text("投诉 #")
    complaint = Complaint.objects.get(order=order)
    assert complaint.line_id == line.pk and complaint.kind == Complaint.Kind.DAMAGED
    stored = complaint.photos.get().image
    with stored.open("rb") as fh, Image.open(fh) as im:
        assert ExifTags.IFD.GPSInfo not in im.getexif()  # the buyer's location is gone
    assert buyer.evaluate("document.documentElement.scrollWidth") <= 360
    assert not axe_violations(buyer), axe_violations(buyer)

    # The cooperative does not answer; the deadline passes; the beat task flags it.
    Complaint.objects.filter(pk=complaint.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    assert flag_overdue_complaints() >= 1
    complaint.refresh_from_db()
    assert complaint.is_overdue and complaint.status == Complaint.Status.ESCALATED

    # Staff see it flagged in the queue and refund ¥12.50.
    staff = new_page(viewport=TABLET)
    staff.goto("/dashboard/login/")
    staff.get_by_label("用户名").fill(ADMIN_EMAIL)
    staff.get_by_label("密码").fill(ADMIN_PASSWORD)
    staff.get_by_role("button", name=re.compile("登[录陆]")).click()
    staff.goto("/dashboard/complaints/")
    row = staff.locator("#complaint-queue tr").filter(has_text=order.number)
    expect(row).to_contain_text("逾期")
    row.get_by_role("link", name=str(complaint.pk)).click()
    refund_form = staff.locator("#complaint-refund-form")
    refund_form.get_by_label("退款金额（元）").fill("12.50")
    refund_form.get_by_label("退款原因").fill("合作社逾期未答复，按破损退款")
    refund_form.get_by_role("button", name="退款并解决").click()
    expect(staff.locator("body")).to_contain_text("已解决")
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.RESOLVED
    refund = complaint.refund
    assert refund is not None and refund.amount == 1250

    # The ledger: the staff payments page lists the refund with its amount …
    staff.goto("/dashboard/payments/")
    refunds_row = staff.locator("tr").filter(has_text=order.number).first
    expect(refunds_row).to_contain_text("12.50")
    # … and the journal has the balanced refund entry for the order.
    entry = accounting.refund_entry(refund)
    assert entry is not None and entry.reference == order.number
    postings = list(Posting.objects.filter(entry=entry))
    assert sum(p.amount for p in postings) == 0
    assert sorted(p.amount for p in postings)[0] == -1250  # the money leaves the cash account

    # The buyer sees the refund on the complaint page.
    buyer.reload()
    main = buyer.get_by_role("main")
    expect(main).to_contain_text("已解决")
    expect(main).to_contain_text("12.50")
    assert not axe_violations(buyer), axe_violations(buyer)
    assert not buyer.js_errors and not buyer.server_errors
    assert not staff.server_errors
