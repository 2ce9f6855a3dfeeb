"""Routes shaped like Barong's: no trailing slash, ids in the body for collection writes."""

from django.urls import include, path
from rest_framework.routers import DynamicRoute, Route, SimpleRouter


class BarongRouter(SimpleRouter):
    """Collection GET/POST/PUT/DELETE → list/create/update_by_id/destroy_by_id.

    Barong's admin API sends the id of the row to change in the body or query
    (``PUT /admin/permissions`` with ``id``), so the collection URL takes all four.
    """

    routes = [
        Route(
            url=r"^{prefix}{trailing_slash}$",
            mapping={
                "get": "list",
                "post": "create",
                "put": "update_by_id",
                "delete": "destroy_by_id",
            },
            name="{basename}-list",
            detail=False,
            initkwargs={"suffix": "List"},
        ),
        DynamicRoute(
            url=r"^{prefix}/{url_path}{trailing_slash}$",
            name="{basename}-{url_name}",
            detail=False,
            initkwargs={},
        ),
        Route(
            url=r"^{prefix}/{lookup}{trailing_slash}$",
            mapping={
                "get": "retrieve",
                "put": "update",
                "patch": "partial_update",
                "delete": "destroy",
            },
            name="{basename}-detail",
            detail=True,
            initkwargs={"suffix": "Instance"},
        ),
        DynamicRoute(
            url=r"^{prefix}/{lookup}/{url_path}{trailing_slash}$",
            name="{basename}-{url_name}",
            detail=True,
            initkwargs={},
        ),
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
