from oscar.apps.address.abstract_models import AbstractUserAddress

from shop.address.chinese import DivisionAddressMixin


class UserAddress(DivisionAddressMixin, AbstractUserAddress):
    class Meta(AbstractUserAddress.Meta):
        pass


from oscar.apps.address.models import *  # noqa: E402,F403
