from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """Personal data as a whole: the export a user asks for, the erasure after deletion."""

    name = "privacy"
    default_auto_field = "django.db.models.BigAutoField"
