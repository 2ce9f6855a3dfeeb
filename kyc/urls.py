"""kyc's routes: the resource API (own profile, documents, phones) and the admin API."""

from django.urls import path

from barong.api.routers import BarongRouter, api_v2
from kyc import admin_user_views, admin_views, storage, views

resource_router = BarongRouter()
resource_router.register("profiles", views.ProfileViewSet, basename="resource-profiles")
resource_router.register("documents", views.DocumentViewSet, basename="resource-documents")
resource_router.register("phones", views.PhoneViewSet, basename="resource-phones")
resource_router.register("data_storage", views.DataStorageViewSet, basename="resource-datastorage")

resource = [
    # Signed, expiring links to KYC files (kyc.storage): no Bearer, the signature is the key.
    path("documents/file/<str:token>", storage.document_file, name="resource-documents-file"),
    *resource_router.urls,
]
admin_router = BarongRouter()
# Literal sub-paths (update, role, documents/pending, data_storage) are matched before
# ``users/{uid}``, whose uid pattern also refuses those words (and ``users/labels``).
admin_router.register("users", admin_user_views.AdminUserViewSet, basename="admin-users")
admin_router.register("profiles", admin_views.AdminProfileViewSet, basename="admin-profiles")

urlpatterns = api_v2(resource=resource, admin=admin_router.urls)
