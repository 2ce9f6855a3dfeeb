from django.apps import AppConfig


class ManagementConfig(AppConfig):
    """The management API: other back-end services drive Barong with multisig JWS calls."""

    name = "management"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from management import checks  # noqa: F401  (registers the config file check)
