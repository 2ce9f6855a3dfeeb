"""Rows that must outlive the request's transactions (activities/services.py)."""

from collections.abc import Callable

from activities.services import activities_deferred, activities_deferred_write


class DeferredActivitiesMiddleware:
    """Writes the refused operator attempts of a request once its view has returned.

    A guard's refusal rolls back the service's transaction, and the back-office wraps
    its forms and bulk actions in transactions of its own; by the time the view has
    returned to this middleware every one of them has ended, so the rows written here
    stay. Costs a context variable per request when nothing was refused.
    """

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request):
        with activities_deferred() as pending:
            try:
                return self.get_response(request)
            finally:
                if pending:
                    activities_deferred_write(pending, request=request)
