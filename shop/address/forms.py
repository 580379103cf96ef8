"""Address book form: a Chinese address (see divisions/forms.py).

Oscar's views load this module's ``UserAddressForm`` through get_class, for
the account's address book and for editing an address during checkout;
its other classes (AbstractAddressForm) still come from Oscar's module.
"""

from typing import Any

from oscar.core.loading import get_model

from divisions.forms import ChineseAddressForm


class UserAddressForm(ChineseAddressForm):
    class Meta:
        model = get_model("address", "UserAddress")
        fields = ChineseAddressForm.MODEL_FIELDS

    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.user = user
