from django.apps import AppConfig


class KycConfig(AppConfig):
    name = "kyc"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kyc.serializers import user_full_info_collections_add

        # The user views of accounts answer kyc's collections too (accounts imports no kyc).
        user_full_info_collections_add()
