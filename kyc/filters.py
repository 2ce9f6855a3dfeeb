"""The admin API's user searches (``/admin/users``, ``/admin/users/documents/pending``).

One FilterSet declares every parameter once: it validates them with Barong's keys and
filters (barong/api/filters.py).
"""

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from rest_framework import serializers

from accounts.filters import unix_seconds
from accounts.models import User
from accounts.services import email_normalize
from barong.api.filters import BarongFilterSet, param_filter
from barong.api.params import BareInvalidInt, Bool, Str
from barong.api.timebounds import time_bounded
from barong.db.counting import sorted_when_few
from kyc.models import Profile

RANGES = ("created", "updated")


class UserFilter(BarongFilterSet):
    """Exact matches (case-insensitive where Barong's MySQL collation was), all combined.

    Profile fields match any of the user's profiles through ``EXISTS``, so a user with
    several profiles is listed once. ``from``/``to`` are inclusive unix seconds on
    ``<range>_at``. ``extended`` filters nothing: it asks for the full user entity.
    """

    extended = param_filter(
        Bool(
            required=False,
            error_messages={"invalid": "admin.user.non_boolean_extended"},
            help_text="When true the answer carries full information about each user",
        ),
        method="filter_nothing",
    )
    uid = param_filter(Str(required=False), method="filter_uid")
    email = param_filter(Str(required=False), method="filter_email")
    role = param_filter(Str(required=False), method="filter_field")
    first_name = param_filter(Str(required=False), method="filter_profile")
    last_name = param_filter(Str(required=False), method="filter_profile")
    country = param_filter(Str(required=False), method="filter_profile")
    level = param_filter(
        BareInvalidInt(required=False, min_value=0, max_value=2**31 - 1), method="filter_field"
    )
    state = param_filter(Str(required=False), method="filter_field")
    # ``range`` only says which column ``from``/``to`` bound; it filters nothing itself.
    range = param_filter(
        serializers.ChoiceField(
            choices=RANGES,
            required=False,
            error_messages={"invalid_choice": "admin.user.invalid_range"},
            help_text="Which timestamp `from`/`to` bound: created (default) or updated",
        ),
        method="filter_nothing",
    )

    class Meta:
        model = User
        fields: list[str] = []

    @classmethod
    def get_filters(cls):
        filters = super().get_filters()
        # ``from`` is a Python keyword, so these two cannot be class attributes.
        filters["from"] = param_filter(
            unix_seconds("Unix seconds; only users whose timestamp is at or after it"),
            method="filter_from",
        )
        filters["to"] = param_filter(
            unix_seconds("Unix seconds; only users whose timestamp is at or before it"),
            method="filter_to",
        )
        for name, filter_ in filters.items():
            filter_.field_name = name
        return filters

    def filter_queryset(self, queryset: QuerySet[User]) -> QuerySet[User]:
        """The filters, then, for a time range, the order that does not walk every user
        created or updated since (``sorted_when_few``)."""
        queryset = super().filter_queryset(queryset)
        bounds = (self.form.cleaned_data.get("from"), self.form.cleaned_data.get("to"))
        if bounds == (None, None) or queryset.query.order_by != ("id",):
            return queryset
        return sorted_when_few(queryset)

    PROFILE_FIELDS = ("first_name", "last_name", "country")

    def keys_narrowed(self, keys: QuerySet, user_field: str) -> QuerySet | None:
        """``keys`` (a cheaper queryset of the same users' ids, ``user_field`` naming them)
        with the profile filters applied, when those are the only ones given; else None.

        The KYC queue by country then counts its labels against the country's profiles
        without joining either to users (at 10M users, 250k waiting against 250k British
        profiles: the join made PostgreSQL de-duplicate the profiles first, 1.6 s against
        0.4 s on the loaded machine)."""
        given = {name for name, value in self.values.items() if value not in (None, "")}
        given -= {"extended", "range"}
        if not given or not given <= set(self.PROFILE_FIELDS):
            return None
        for name in sorted(given):
            profiles = Profile.objects.filter(
                user=OuterRef(user_field), **{f"{name}__iexact": self.values[name]}
            )
            keys = keys.filter(Exists(profiles))
        return keys

    def narrows(self) -> bool:
        """Whether a parameter leaves users out (``extended`` and ``range`` alone do not)."""
        return any(
            value not in (None, "")
            for name, value in self.values.items()
            if name not in ("extended", "range")
        )

    def filter_nothing(self, queryset: QuerySet[User], name: str, value: Any) -> QuerySet[User]:
        return queryset

    def filter_field(self, queryset: QuerySet[User], name: str, value: Any) -> QuerySet[User]:
        return queryset.filter(**{name: value})

    def filter_uid(self, queryset: QuerySet[User], name: str, value: str) -> QuerySet[User]:
        return queryset.filter(uid=value.upper())  # uids are stored upper-case

    def filter_email(self, queryset: QuerySet[User], name: str, value: str) -> QuerySet[User]:
        return queryset.filter(email=email_normalize(value))

    def filter_profile(self, queryset: QuerySet[User], name: str, value: str) -> QuerySet[User]:
        profiles = Profile.objects.filter(user=OuterRef("pk"), **{f"{name}__iexact": value})
        return queryset.filter(Exists(profiles))

    def _column(self) -> str:
        return f"{self.form.cleaned_data.get('range') or 'created'}_at"

    def filter_from(self, queryset: QuerySet[User], name: str, value: int) -> QuerySet[User]:
        return time_bounded(queryset, self._column(), time_from=value)

    def filter_to(self, queryset: QuerySet[User], name: str, value: int) -> QuerySet[User]:
        return time_bounded(queryset, self._column(), time_to=value)
