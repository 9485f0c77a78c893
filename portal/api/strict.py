"""Request bodies that refuse fields they do not know, and say so in the schema.

A field the API ignores is a field the client believes it set: a misspelt ``narative`` or a
measurement row copied back with its ``sex`` would be dropped without a word. So a body naming a
field the serializer does not take is refused (400, naming each such field), and the request's
schema says ``additionalProperties: false``, which is what a generated client and a fuzzer read.
"""

from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers


class RefuseUnknownFields:
    """Refuse a body naming a field that is not one of the serializer's writable fields."""

    unknown_field_message = _("Unknown field: this request takes only the fields its schema lists.")

    def to_internal_value(self, data):
        writable = {name for name, field in self.fields.items() if not field.read_only}
        unknown = sorted(set(data) - writable) if isinstance(data, Mapping) else []
        refused = {_shown(name): [self.unknown_field_message] for name in unknown}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if refused and isinstance(error.detail, dict):
                raise serializers.ValidationError({**error.detail, **refused}) from None
            raise
        if refused:
            raise serializers.ValidationError(refused)
        return value


def _shown(name: str) -> str:
    """The name as the answer may echo it: escaped when it holds a control character (a NUL, which
    PostgreSQL refuses in the JSON an idempotent answer is kept as, or a line break)."""
    return name if name.isprintable() else name.encode("unicode_escape").decode("ascii")


def shown(data):
    """The errors as an answer may echo them: every key and text with a control character escaped."""
    if isinstance(data, dict):
        return {_shown(str(key)): shown(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [shown(value) for value in data]
    return _shown(data) if isinstance(data, str) else data


class RefuseUnknownFieldsExtension(OpenApiSerializerExtension):
    """Describe a request body of a ``RefuseUnknownFields`` serializer with ``additionalProperties: false``."""

    target_class = RefuseUnknownFields
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["additionalProperties"] = False
        return schema
