import oscar.apps.checkout.apps as apps
from django.urls import path


class CheckoutConfig(apps.CheckoutConfig):
    name = "shop.checkout"

    def get_urls(self):
        """Oscar's checkout URLs plus the online payment pages
        (shop/checkout/pay_views.py)."""
        from shop.checkout import pay_views

        urls = [
            path("pay/<uuid:token>/", pay_views.pay, name="pay"),
            path("pay/<uuid:token>/return/", pay_views.pay_return, name="pay-return"),
            path("pay/<uuid:token>/status/", pay_views.pay_status, name="pay-status"),
            path("pay/<uuid:token>/cancel/", pay_views.pay_cancel, name="pay-cancel"),
        ]
        return super().get_urls() + self.post_process_urls(urls)
