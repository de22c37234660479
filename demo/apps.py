from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data, benchmarks and their helpers. It imports the domain apps; nothing imports it."""

    name = "demo"
    verbose_name = "Demo data and benchmarks"
