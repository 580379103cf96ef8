"""The refund form shared by the staff dashboard and the cooperative portal.

One amount in yuan per order line (and, for staff, the shipping charge), a
reason, and a hidden token: the token is the refund's identity, so the same
form submitted twice is one refund (shop/payment/refunds.py). The "全额退款"
button refunds everything still refundable on the lines shown, whatever the
amount boxes say. Amounts are parsed to int fen; what the refund service
refuses comes back onto the field it names, with what was typed kept.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from shop.payment import refunds

FULL = "full"


@dataclass
class RefundRow:
    """One order line on a refund form, its amounts in fen."""

    line: object
    paid: int
    refunded: int
    refundable: int

    @property
    def field_name(self) -> str:
        return f"line_{self.line.pk}"


def rows_for(order, left: refunds.Refundable, *, partner=None) -> list[RefundRow]:
    """The order's lines (``partner``'s only, for a cooperative) with what
    was paid, refunded and is left."""
    lines = order.lines.order_by("pk")
    if partner is not None:
        lines = lines.filter(partner=partner)
    return [
        RefundRow(
            line=line,
            paid=left.paid[line.pk],
            refunded=left.refunded[line.pk],
            refundable=left.lines[line.pk],
        )
        for line in lines
    ]


class YuanField(forms.CharField):
    """An amount typed in yuan ("12.5", "¥12.50"), cleaned to int fen;
    empty is 0. Fractions of a fen are refused."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 16)
        super().__init__(**kwargs)
        self.widget.attrs.update(
            {"inputmode": "decimal", "autocomplete": "off", "placeholder": "0.00"}
        )

    def clean(self, value) -> int:
        value = super().clean(value)
        return refunds.parse_yuan(value)


class RefundForm(forms.Form):
    token = forms.UUIDField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("退款原因"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("买家能看到退款金额和方式；原因只记录在平台内部。"),
    )

    def __init__(self, *args, rows: list[RefundRow], shipping: int | None = None, **kwargs):
        """``shipping``: the shipping still refundable in fen, or None where
        shipping is not refunded from this form (cooperatives)."""
        super().__init__(*args, **kwargs)
        self.rows = rows
        self.shipping_left = shipping
        if not self.is_bound:
            self.initial.setdefault("token", uuid.uuid4())
        for row in rows:
            self.fields[row.field_name] = YuanField(
                label=row.line.title,
                disabled=row.refundable <= 0,
                help_text=_("最多 ¥%(max)s") % {"max": refunds.yuan(row.refundable)},
            )
        if shipping is not None:
            self.fields["shipping"] = YuanField(
                label=_("运费"),
                disabled=shipping <= 0,
                help_text=_("最多 ¥%(max)s") % {"max": refunds.yuan(shipping)},
            )

    @property
    def full(self) -> bool:
        return self.is_bound and FULL in self.data

    def line_fields(self):
        return [(row, self[row.field_name]) for row in self.rows]

    def amounts(self) -> tuple[dict[int, int], int]:
        """({line id: fen}, shipping fen) to refund, from a valid form."""
        if self.full:
            lines = {row.line.pk: row.refundable for row in self.rows if row.refundable > 0}
            return lines, max(self.shipping_left or 0, 0)
        lines = {
            row.line.pk: self.cleaned_data.get(row.field_name) or 0
            for row in self.rows
            if row.refundable > 0
        }
        return lines, self.cleaned_data.get("shipping") or 0

    def new_token(self) -> None:
        """A fresh token, after Stripe refused the last one (nothing was
        refunded, so a new attempt may not reuse its idempotency key)."""
        data = self.data.copy()
        data["token"] = str(uuid.uuid4())
        self.data = data

    def add_service_errors(self, exc: ValidationError) -> None:
        """The refund service's refusal on the fields it names (others on
        the form)."""
        if hasattr(exc, "error_dict"):
            for name, errors in exc.error_dict.items():
                self.add_error(name if name in self.fields else None, errors)
        else:
            self.add_error(None, exc)


def refused_by_stripe(exc: ValidationError) -> bool:
    errors = getattr(exc, "error_list", [])
    return any(getattr(e, "code", None) == refunds.STRIPE_REFUSED for e in errors)
