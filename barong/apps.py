"""The Django admin app, configured to use Barong's back-office site (barong/admin_site.py)."""

from django.contrib.admin.apps import AdminConfig


class BarongAdminConfig(AdminConfig):
    """``django.contrib.admin`` with ``BarongAdminSite`` as ``admin.site``.

    This module stays import-light: Django imports it while the app registry is still
    being filled, and ``default_site`` is only resolved once every model is loaded.
    """

    default_site = "barong.admin_site.BarongAdminSite"
