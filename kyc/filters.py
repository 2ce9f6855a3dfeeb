"""django-filter FilterSets behind the operators' user searches (admin API users)."""

import django_filters
from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import User
from accounts.services import email_normalize
from barong.api.timebounds import time_bounded
from kyc.models import Profile

RANGES = ("created", "updated")


class UserFilter(django_filters.FilterSet):
    """Exact matches (case-insensitive where Barong's MySQL collation was), all combined.

    Profile fields match any of the user's profiles through ``EXISTS``, so a user with
    several profiles is listed once. ``from``/``to`` are inclusive unix seconds on
    ``<range>_at``; the values arrive already validated by the view's input serializer.
    """

    uid = django_filters.CharFilter(method="filter_uid")
    email = django_filters.CharFilter(method="filter_email")
    role = django_filters.CharFilter(field_name="role")
    first_name = django_filters.CharFilter(method="filter_profile")
    last_name = django_filters.CharFilter(method="filter_profile")
    country = django_filters.CharFilter(method="filter_profile")
    level = django_filters.NumberFilter(field_name="level")
    state = django_filters.CharFilter(field_name="state")
    # ``range`` only says which column ``from``/``to`` bound; it filters nothing itself.
    range = django_filters.ChoiceFilter(choices=[(r, r) for r in RANGES], method="filter_range")
    time_from = django_filters.NumberFilter(method="filter_from")
    time_to = django_filters.NumberFilter(method="filter_to")

    class Meta:
        model = User
        fields: list[str] = []

    def filter_uid(self, queryset: QuerySet[User], name: str, value: str) -> QuerySet[User]:
        return queryset.filter(uid=value.upper())  # uids are stored upper-case

    def filter_email(self, queryset: QuerySet[User], name: str, value: str) -> QuerySet[User]:
        return queryset.filter(email=email_normalize(value))

    def filter_profile(self, queryset: QuerySet[User], name: str, value: str) -> QuerySet[User]:
        profiles = Profile.objects.filter(user=OuterRef("pk"), **{f"{name}__iexact": value})
        return queryset.filter(Exists(profiles))

    def filter_range(self, queryset: QuerySet[User], name: str, value: str) -> QuerySet[User]:
        return queryset

    def _column(self) -> str:
        return f"{self.form.cleaned_data.get('range') or 'created'}_at"

    def filter_from(self, queryset: QuerySet[User], name: str, value) -> QuerySet[User]:
        return time_bounded(queryset, self._column(), time_from=int(value))

    def filter_to(self, queryset: QuerySet[User], name: str, value) -> QuerySet[User]:
        return time_bounded(queryset, self._column(), time_to=int(value))
