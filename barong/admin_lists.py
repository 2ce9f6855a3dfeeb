"""Back-office changelists that stay fast on tables of millions of rows.

- ``EstimatedCountPaginator``: the total is ``queryset_total`` (exact when cheap, else
  PostgreSQL's estimate) and a page's rows are selected by primary key first, so a deep
  page walks an index, not millions of joined rows.
- ``ScaleListMixin``: that paginator, no full-table count, and searches through
  ``search_q`` — indexed lookups (exact uid, e-mail substring over a pg_trgm index) instead
  of ``icontains`` over joins with DISTINCT.
- ``FixedChoicesFilter`` and ``ExactValueFilter``: list filters whose choices are fixed (or
  a typed value), never a ``SELECT DISTINCT`` over a big table.
docs/compatibility.md ("Lists at scale: totals, pages, searches, manual states") and
docs/operations.md say more.
"""

from collections.abc import Callable, Iterable

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.utils.functional import cached_property

from barong.db.counting import page_rows, queryset_total

# Substring search needs a trigram (3 characters) to use the pg_trgm index.
SUBSTRING_MIN = 3
# A search matching more accounts shows the first ones (by id), or their rows.
SEARCH_USERS_MAX = 100


class EstimatedCountPaginator(Paginator):
    """A paginator whose count may be PostgreSQL's estimate and whose pages go id-first."""

    @cached_property
    def count(self) -> int:
        if isinstance(self.object_list, QuerySet):
            return queryset_total(self.object_list)
        return super().count

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if isinstance(self.object_list, QuerySet):
            return self._get_page(page_rows(self.object_list, bottom, self.per_page), number, self)
        return super().page(number)


def user_match_q(term: str, prefix: str = "", *, substring: bool = True) -> Q:
    """Accounts whose uid or e-mail is ``term``, or (``substring``) whose e-mail contains it."""
    term = term.strip()
    query = Q(**{f"{prefix}uid": term.upper()}) | Q(**{f"{prefix}email": term.lower()})
    if substring and len(term) >= SUBSTRING_MIN:
        query |= Q(**{f"{prefix}email__contains": term.lower()})
    return query


def users_matching(term: str) -> list[int]:
    """Ids of the first ``SEARCH_USERS_MAX`` matching accounts.

    An exact uid or e-mail wins (two unique indexes); only without one is the e-mail
    substring searched (pg_trgm). Resolved first, so the searched table is then read by
    its user index rather than joined to users row by row.
    """
    users = get_user_model().objects.order_by("id")
    exact = list(users.filter(user_match_q(term, substring=False)).values_list("pk", flat=True)[:2])
    if exact or len(term.strip()) < SUBSTRING_MIN:
        return exact
    return list(users.filter(user_match_q(term)).values_list("pk", flat=True)[:SEARCH_USERS_MAX])


class ScaleListMixin:
    """Estimated totals, id-first pages and indexed searches for a big table's changelist."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    search_help_text = "An exact uid, or part of an e-mail address (3 characters or more)."

    def search_q(self, term: str) -> Q:
        """The rows matching a search term; by default, rows of the matching accounts."""
        return Q(user__in=users_matching(term))

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()[:255]
        if not term:
            return queryset, False
        return queryset.filter(self.search_q(term)), False


class ExactValueFilter(admin.SimpleListFilter):
    """``?<parameter>=<value>``: rows whose field equals the value (no list of choices)."""

    field_name = ""

    def lookups(self, request, model_admin):
        return ()

    def has_output(self):
        return True

    def choices(self, changelist):
        value = self.value()
        yield {
            "selected": value is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "All",
        }
        if value:
            yield {
                "selected": True,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": value,
            }

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        return queryset.filter(**{self.field_name: value}) if value else queryset


def exact_filter(field: str, title: str, parameter: str | None = None) -> type:
    """An ``ExactValueFilter`` on ``field``, driven by ``?<parameter>=`` (default: field)."""
    return type(
        f"{field.title().replace('_', '')}ExactFilter",
        (ExactValueFilter,),
        {"title": title, "parameter_name": parameter or field, "field_name": field},
    )


class FixedChoicesFilter(admin.SimpleListFilter):
    """Choices from code or a small table, never ``DISTINCT`` over the filtered table."""

    field_name = ""
    options: Callable[[], Iterable[tuple[str, str]]] = staticmethod(lambda: ())

    def lookups(self, request, model_admin):
        return [(str(value), label) for value, label in self.options()]

    def queryset(self, request, queryset):
        value = self.value()
        if value in (None, ""):
            return queryset
        return queryset.filter(**{self.field_name: value})


def fixed_filter(
    field: str, title: str, options: Callable[[], Iterable[tuple[object, str]]]
) -> type:
    """A ``FixedChoicesFilter`` on ``field`` (``?<field>=``) with ``options()`` as choices."""
    return type(
        f"{field.title().replace('_', '')}FixedFilter",
        (FixedChoicesFilter,),
        {
            "title": title,
            "parameter_name": field,
            "field_name": field,
            "options": staticmethod(options),
        },
    )
