from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    # The user's manager (accounts.models.UserManager) stands below the services and reaches
    # them here: ``createsuperuser`` and ``User.objects.create_user`` keep the sign-up's rules.
    def user_create(self, **fields):
        from accounts.services import user_create

        return user_create(**fields)

    def superuser_create(self, **fields):
        from accounts.services import superuser_create

        return superuser_create(**fields)
