"""Routes shaped like Barong's: no trailing slash, ids in the body for collection writes."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

# DRF's own routes, but for the collection's, which also takes PUT and DELETE.
_DRF_LIST, *_DRF_OTHER_ROUTES = SimpleRouter.routes


class BarongRouter(SimpleRouter):
    """Collection GET/POST/PUT/DELETE → list/create/update_by_id/destroy_by_id.

    Barong's admin API sends the id of the row to change in the body or query
    (``PUT /admin/permissions`` with ``id``), so the collection URL takes all four.
    """

    routes = [
        _DRF_LIST._replace(
            mapping={**_DRF_LIST.mapping, "put": "update_by_id", "delete": "destroy_by_id"}
        ),
        *_DRF_OTHER_ROUTES,
    ]

    def __init__(self) -> None:
        super().__init__(trailing_slash=False)


def api_v2(*, identity=(), resource=(), admin=(), management=()) -> list:
    """One app's API routes under ``/api/v2/`` and again under ``/api/v2/barong/``, as Barong
    answers both: ``identity`` at the root, the others under their own prefix."""
    tree = list(identity)
    for prefix, routes in (("resource/", resource), ("admin/", admin), ("management/", management)):
        if routes:
            tree.append(path(prefix, include(list(routes))))
    return [path("api/v2/barong/", include(tree)), path("api/v2/", include(tree))]
