"""privacy's routes: the own data's export (resource API)."""

from barong.api.routers import BarongRouter, api_v2
from privacy import views

resource_router = BarongRouter()
resource_router.register("users/me/export", views.ExportViewSet, basename="resource-users-export")
urlpatterns = api_v2(resource=resource_router.urls)
