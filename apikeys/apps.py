from django.apps import AppConfig


class ApikeysConfig(AppConfig):
    name = "apikeys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.authentication import API_KEY_CLAIM, BearerJWTAuthentication
        from accounts.signals import api_access_lost, users_api_access_lost
        from apikeys.scopes import scope_table
        from apikeys.services import api_keys_user_access_lost, api_keys_users_access_lost
        from apikeys.signatures import api_key_token_bound

        scope_table()  # a malformed BARONG_API_KEY_SCOPES stops start-up, not a gateway call

        # A JWT minted for an API key dies with the key on this server's own API.
        BearerJWTAuthentication.binding_add(API_KEY_CLAIM, api_key_token_bound)

        # A banned user, or one who turned 2FA off, keeps no working key.
        api_access_lost.connect(api_keys_user_access_lost, dispatch_uid="apikeys.access_lost")
        users_api_access_lost.connect(
            api_keys_users_access_lost, dispatch_uid="apikeys.users_access_lost"
        )
