"""A settlement statement as rows, as a CSV download and as a PDF.

The screens (cooperative and station portals, the staff dashboard), the CSV
and the PDF all list the same rows, built here from the statement's items:
a cooperative's by order line (order number, day delivered, product,
quantity, then the line's sales, commission, refunds and net on this
statement), a station's by order (order number, day ordered, commission,
cancelled, net). The rows add up to the statement's totals.

The CSV is UTF-8 with a BOM (config/spreadsheets.py), so Excel opens the
Chinese. The PDF is an A4 page rendered by WeasyPrint from
``payment/statement_pdf.html`` in the Noto CJK fonts, like the waybill
(logistics/waybill.py), and loads nothing from the network. Both are in
Chinese whatever the viewer's language: they are records kept and sent on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from config.documents import html_to_pdf
from config.spreadsheets import csv_response, safe_cell
from cooperatives import fulfilment
from shop.payment import settlement
from shop.payment.ledger import from_fen
from shop.payment.models import Statement, StatementItem

Party = Statement.Party
DOCUMENT_LANGUAGE = "zh-hans"


@dataclass
class Row:
    """One order line (cooperative) or order (station) of a statement."""

    order_number: str
    day: dt.date | None  # delivered (cooperative) or ordered (station)
    title: str = ""
    quantity: int | None = None
    amounts: settlement.Amounts = field(default_factory=settlement.Amounts)

    @property
    def cancelled(self) -> bool:
        """A station's order whose commission was reversed here."""
        return self.amounts.refunds > 0


def statement_rows(statement: Statement) -> list[Row]:
    """The statement's rows, by order number then line."""
    items = (
        StatementItem.objects.filter(statement=statement)
        .select_related("posting__entry", "posting__order", "posting__line")
        .order_by("posting__order__number", "posting__line_id", "pk")
    )
    party = statement.party
    rows: dict[object, Row] = {}
    for item in items:
        posting = item.posting
        if party == Party.COOPERATIVE:
            key = ("line", posting.line_id) if posting.line_id else ("posting", posting.pk)
        else:
            key = ("order", posting.order_id) if posting.order_id else ("posting", posting.pk)
        row = rows.get(key)
        if row is None:
            row = rows[key] = _row(party, posting)
        row.amounts.add(party, posting.entry.kind, posting.amount)
    if party == Party.COOPERATIVE:
        delivered = fulfilment.delivered_at(
            key[1] for key in rows if key[0] == "line" and key[1] is not None
        )
        for key, row in rows.items():
            when = delivered.get(key[1]) if key[0] == "line" else None
            row.day = timezone.localtime(when).date() if when else None
    return list(rows.values())


def _row(party: str, posting) -> Row:
    order = posting.order
    number = order.number if order is not None else posting.entry.reference
    if party == Party.COOPERATIVE:
        line = posting.line
        return Row(
            order_number=number,
            day=None,
            title=line.title if line is not None else posting.entry.memo,
            quantity=line.quantity if line is not None else None,
        )
    placed = timezone.localtime(order.date_placed).date() if order is not None else None
    return Row(order_number=number, day=placed)


def yuan(fen: int) -> str:
    """fen as yuan with two decimals ("-12.30")."""
    return f"{from_fen(fen)}"


def _header(statement: Statement) -> list[list[str]]:
    rows = [
        [_("结算单号"), statement.number],
        [_("结算对象"), safe_cell(settlement.party_name(statement))],
        [
            _("结算期"),
            f"{statement.period_start:%Y-%m-%d} – {statement.period_end:%Y-%m-%d}",
        ],
        [_("状态"), settlement.status_label(statement)],
    ]
    if statement.status == Statement.Status.PAID:
        rows.append([_("付款时间"), f"{timezone.localtime(statement.paid_at):%Y-%m-%d %H:%M}"])
        rows.append([_("银行流水号"), safe_cell(statement.bank_reference)])
    rows.append([_("金额单位"), _("元")])
    return rows


def csv_rows(statement: Statement):
    """The CSV: a few lines about the statement, then its table and totals."""
    yield from _header(statement)
    yield []
    rows = statement_rows(statement)
    if statement.party == Party.COOPERATIVE:
        yield [
            _("订单号"),
            _("送达日期"),
            _("商品"),
            _("数量"),
            _("货款"),
            _("佣金"),
            _("退款"),
            _("应付"),
        ]
        for row in rows:
            a = row.amounts
            yield [
                safe_cell(row.order_number),
                row.day.isoformat() if row.day else "",
                safe_cell(row.title),
                "" if row.quantity is None else row.quantity,
                yuan(a.gross),
                yuan(a.commission),
                yuan(a.refunds),
                yuan(a.payable),
            ]
        yield [
            _("合计"),
            "",
            "",
            "",
            yuan(statement.gross),
            yuan(statement.commission),
            yuan(statement.refunds),
            yuan(statement.payable),
        ]
    else:
        yield [_("订单号"), _("下单日期"), _("佣金"), _("取消冲回"), _("应付")]
        for row in rows:
            a = row.amounts
            yield [
                safe_cell(row.order_number),
                row.day.isoformat() if row.day else "",
                yuan(a.commission),
                yuan(a.refunds),
                yuan(a.payable),
            ]
        yield [
            _("合计"),
            "",
            yuan(statement.commission),
            yuan(statement.refunds),
            yuan(statement.payable),
        ]


def csv_download(statement: Statement) -> HttpResponse:
    with translation.override(DOCUMENT_LANGUAGE):
        return csv_response(f"{statement.number}.csv", list(csv_rows(statement)))


def pdf_context(statement: Statement) -> dict:
    return {
        "statement": statement,
        "party_name": settlement.party_name(statement),
        "status_label": settlement.status_label(statement),
        "is_cooperative": statement.party == Party.COOPERATIVE,
        "rows": statement_rows(statement),
        "generated_at": timezone.localtime(),
        "return_window_days": settings.WANGNONG_RETURN_WINDOW_DAYS,
    }


def statement_html(statement: Statement) -> str:
    with translation.override(DOCUMENT_LANGUAGE):
        return render_to_string("payment/statement_pdf.html", pdf_context(statement))


def statement_pdf(statement: Statement) -> bytes:
    """The statement as PDF bytes (A4, as many pages as its rows need)."""
    return html_to_pdf(statement_html(statement))


def pdf_download(statement: Statement) -> HttpResponse:
    response = HttpResponse(statement_pdf(statement), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{statement.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
