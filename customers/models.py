"""What the customers app keeps: the VIP flag, one row per VIP customer (no row: not a VIP). Internal: never on a
customer page or in a webhook; deleted with the customer's personal data (receivers.on_customer_erased)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from tickets.models import Customer


class Vip(models.Model):
    """A customer agents marked VIP: their tickets carry a marker in the list, which can filter on it."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, primary_key=True, related_name="vip")
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    set_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "VIP customer"

    def __str__(self) -> str:
        return f"VIP: customer {self.customer_id}"
