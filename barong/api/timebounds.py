"""Inclusive unix-second time bounds, the one way every list filter applies ``from``/``to``."""

from datetime import UTC, datetime

from django.db.models import QuerySet

from barong.api.errors import ApiError

# The largest bound a datetime can hold comfortably (the year 3000); inputs stop there.
UNIX_MAX = 32503680000


def unix_time(seconds: int, error_key: str | None = None) -> datetime:
    """A unix-seconds bound as an aware UTC datetime; ``error_key`` (422) if out of range."""
    try:
        return datetime.fromtimestamp(int(seconds), tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ApiError(error_key or "time.invalid") from exc


def time_bounded(
    queryset: QuerySet,
    column: str,
    time_from: int | None = None,
    time_to: int | None = None,
    *,
    from_key: str | None = None,
    to_key: str | None = None,
) -> QuerySet:
    """Rows whose ``column`` is within ``[from, to]``, both inclusive unix seconds.

    ``to`` covers its whole second (anything before the start of the next one), as
    Barong's second-precision columns did.
    """
    if time_from is not None:
        queryset = queryset.filter(**{f"{column}__gte": unix_time(time_from, from_key)})
    if time_to is not None:
        until = unix_time(int(time_to) + 1, to_key)
        queryset = queryset.filter(**{f"{column}__lt": until})
    return queryset
