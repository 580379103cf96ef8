import oscar.apps.order.apps as apps


class OrderConfig(apps.OrderConfig):
    name = "shop.order"

    def ready(self):
        super().ready()
        from shop.order import receivers

        # Oscar's analytics receiver runs inside the order transaction and
        # can deadlock concurrent checkouts; see shop/order/receivers.py.
        receivers.connect()
