"""privacy's routes for barong/urls.py (resource only)."""

from barong.api.routers import BarongRouter
from privacy import views

identity: list = []
admin: list = []
resource_router = BarongRouter()
resource_router.register("users/me/export", views.ExportViewSet, basename="resource-users-export")
resource = resource_router.urls
