from django import forms
from django.utils.translation import gettext_lazy as _
from oscar.apps.checkout.forms import *  # noqa: F403  (Oscar's forms we do not change)
from oscar.core.loading import get_model

from divisions.forms import ChineseAddressForm
from shop.payment import methods


class ShippingAddressForm(ChineseAddressForm):
    """A new delivery address typed at checkout (Chinese divisions, mobile).

    Oscar's ShippingAddressView keeps ``form.instance.__dict__`` in the
    checkout session; that includes ``division_id``, so the division comes
    back onto the ShippingAddress Oscar rebuilds from the session.
    """

    class Meta:
        model = get_model("order", "ShippingAddress")
        fields = ChineseAddressForm.MODEL_FIELDS


class PaymentMethodForm(forms.Form):
    method = forms.ChoiceField(
        label=_("付款方式"),
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择付款方式。"), "invalid_choice": _("请选择付款方式。")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.methods = methods.available_methods()
        self.fields["method"].choices = [(m.code, m.label) for m in self.methods]
