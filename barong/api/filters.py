"""django-filter FilterSets that validate like the rest of the API, with Barong's keys.

A list endpoint declares its filters once, as a ``BarongFilterSet``. Each filter's form
field wraps one of the ``barong.api.params`` fields (``ParamField``), so values are parsed
and refused exactly as request bodies are (``Str``, ``Bool``, ``BareInvalidInt``…), and
``BarongFilterSet.filtered`` raises the 422 ``ApiError`` with the same keys a serializer
would give. ``query_schema`` derives the OpenAPI query parameters from the same filters.
"""

from copy import deepcopy
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from barong.api.errors import ApiError, serializer_error_keys


class ParamField(forms.Field):
    """A form field that validates with an API parameter field; blank means "no filter"."""

    def __init__(self, *, param: serializers.Field, blank_ok: bool = True, **kwargs: Any) -> None:
        self.param, self.blank_ok = param, blank_ok
        kwargs["required"] = False
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Any:
        if value is None or (value == "" and self.blank_ok):
            return None
        try:
            return self.param.run_validation(value)
        except serializers.ValidationError as exc:
            detail = exc.detail[0] if isinstance(exc.detail, list) else exc.detail
            code = getattr(detail, "code", "invalid")
            raise forms.ValidationError(str(detail), code=code) from exc


class ParamFilter(django_filters.Filter):
    field_class = ParamField


def param_filter(param: serializers.Field, *, method: str, blank_ok: bool = True) -> ParamFilter:
    """A filter applied by ``method`` whose value is validated by ``param``.

    A blank value means "no filter" unless ``blank_ok`` is false (then ``param`` judges it).
    """
    return ParamFilter(method=method, param=param, blank_ok=blank_ok, help_text=param.help_text)


class BarongFilterSet(django_filters.FilterSet):
    """Validates the request's parameters with its filters, then filters."""

    def filtered(self, prefix: str) -> QuerySet:
        """The filtered rows, or a 422 with Barong's keys for every refused parameter."""
        if not self.is_valid():
            detail = {
                name: [ErrorDetail(error.message, code=error.code) for error in errors]
                for name, errors in self.form.errors.as_data().items()
            }
            raise ApiError(serializer_error_keys(prefix, detail), 422)
        return self.qs

    @property
    def values(self) -> dict[str, Any]:
        """The validated values (after ``filtered``), ``None`` where a filter was not given."""
        return self.form.cleaned_data


def query_schema(filterset_class: type[BarongFilterSet]) -> type[serializers.Serializer]:
    """A serializer with the filters' parameter fields: the query parameters of the schema."""
    fields = {
        name: deepcopy(filter_.extra["param"])
        for name, filter_ in filterset_class.base_filters.items()
        if "param" in filter_.extra
    }
    for field in fields.values():
        field.required = False
    name = filterset_class.__name__.replace("Filter", "") + "Query"
    return type(name, (serializers.Serializer,), fields)
