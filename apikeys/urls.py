"""apikeys' routes: ``identity``, ``resource`` and ``admin`` lists for barong/urls.py."""

from apikeys import views
from barong.api.routers import BarongRouter

resource_router = BarongRouter()
resource_router.register("api_keys", views.APIKeyViewSet, basename="resource-api-keys")

identity: list = []
resource = resource_router.urls
admin: list = []
