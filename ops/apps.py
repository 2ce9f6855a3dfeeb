from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operability: health probes, ``/metrics``, the e-mail links' pages, ``demo_seed``."""

    name = "ops"

    def ready(self) -> None:
        from ops.metrics import register_outbox_collector

        register_outbox_collector()
