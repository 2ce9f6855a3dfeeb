"""apikeys' routes: ``identity``, ``resource`` and ``admin`` lists for barong/urls.py."""

from apikeys import views
from barong.api.routers import BarongRouter

resource_router = BarongRouter()
resource_router.register("api_keys", views.APIKeyViewSet, basename="resource-api-keys")

admin_router = BarongRouter()
admin_router.register("api_keys", views.AdminAPIKeyViewSet, basename="admin-api-keys")

identity: list = []
resource = resource_router.urls
admin: list = admin_router.urls
