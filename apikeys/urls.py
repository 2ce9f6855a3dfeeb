"""apikeys' routes: the own keys (resource API) and every key (admin API)."""

from apikeys import views
from barong.api.routers import BarongRouter, api_v2

resource_router = BarongRouter()
resource_router.register("api_keys", views.APIKeyViewSet, basename="resource-api-keys")

admin_router = BarongRouter()
admin_router.register("api_keys", views.AdminAPIKeyViewSet, basename="admin-api-keys")

urlpatterns = api_v2(resource=resource_router.urls, admin=admin_router.urls)
