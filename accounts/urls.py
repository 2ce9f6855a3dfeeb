"""accounts' routes: ``identity`` (public), ``resource`` and ``admin`` lists for barong/urls.py."""

from accounts import views
from barong.api.routers import BarongRouter

identity_router = BarongRouter()
identity_router.register("identity", views.GeneralViewSet, basename="identity-general")

identity = identity_router.urls
resource: list = []
admin: list = []
