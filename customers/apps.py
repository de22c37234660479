from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        from tickets.event_kinds import ticket_event_kind_register
        from tickets.signals import customer_erased

        from . import pages, receivers
        from .services import VIP_CLEARED, VIP_SET

        ticket_event_kind_register(app=self.label, key=VIP_SET, label="VIP set", render=pages.vip_set_text)
        ticket_event_kind_register(app=self.label, key=VIP_CLEARED, label="VIP cleared", render=pages.vip_cleared_text)
        pages.register()
        customer_erased.connect(receivers.on_customer_erased, dispatch_uid="customers-on-customer-erased")
