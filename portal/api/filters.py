"""The API's filtering: django-filter's, refusing a filter parameter given empty, and times read as UTC."""

import datetime

import django_filters
from django import forms
from django.utils.translation import gettext as _
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError


class FilterBackend(DjangoFilterBackend):
    """Filter lists with their FilterSet; refuse (400) a filter parameter given with no value.

    django-filter reads ``?state=`` or ``?updated_since=`` as no filter at all: a client that lost the
    value it meant to send would get every row and never know. Left out, a parameter filters nothing;
    given, it must say something. (The browser's forms send empty fields: the pages keep django-filter's
    reading.)
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            empty = [
                name
                for name in filterset_class.base_filters
                if any(not value.strip() for value in request.query_params.getlist(name))
            ]
            if empty:
                raise ValidationError(
                    {
                        name: [_("%(name)s is empty: give it a value, or leave it out.") % {"name": name}]
                        for name in empty
                    }
                )
        return super().filter_queryset(request, queryset, view)


class UtcIsoDateTimeField(IsoDateTimeField):
    """Read an ISO 8601 date and time as UTC, refusing one that UTC cannot hold."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            # Databases refuse far offsets (PostgreSQL) or overflow on conversion (SQLite).
            return moment.astimezone(datetime.UTC)
        except OverflowError:
            raise forms.ValidationError(_("This date and time is out of range."), code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField
