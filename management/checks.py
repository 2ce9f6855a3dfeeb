"""``manage.py check`` reports a management API config file that cannot be trusted."""

from django.core.checks import Error, register

from management.config import management_config_error


@register()
def management_api_config_check(app_configs, **kwargs) -> list[Error]:
    error = management_config_error()
    if error is None:
        return []
    return [
        Error(
            f"BARONG_MANAGEMENT_API_CONFIG: {error}",
            hint="Every management API call answers 401 until the file is fixed.",
            id="management.E001",
        )
    ]
