from django.apps import AppConfig


class PermissionsConfig(AppConfig):
    name = "permissions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from accounts.signals import users_updated_in_bulk
        from permissions import signals

        # The authz caches of a user or an API key are dropped on any save or delete,
        # including the Django admin's and the shell's, not only through the services.
        post_save.connect(signals.user_changed, sender="accounts.User")
        post_delete.connect(signals.user_changed, sender="accounts.User")
        # A level resync rewrites users with bulk UPDATEs, which send no post_save.
        users_updated_in_bulk.connect(
            signals.users_updated_in_bulk, dispatch_uid="permissions.users_updated_in_bulk"
        )
        post_save.connect(signals.api_key_changed, sender="apikeys.APIKey")
        post_delete.connect(signals.api_key_changed, sender="apikeys.APIKey")
