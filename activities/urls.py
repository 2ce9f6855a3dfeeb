"""activities' routes: ``identity``, ``resource`` and ``admin`` lists for barong/urls.py."""

from activities import views
from barong.api.routers import BarongRouter

identity: list = []
resource: list = []
admin_router = BarongRouter()
admin_router.register("activities", views.AdminActivityViewSet, basename="admin-activities")
admin_router.register("metrics", views.AdminMetricViewSet, basename="admin-metrics")

admin = admin_router.urls
