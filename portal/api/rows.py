"""Pages of a list read with ``.values()`` and shaped exactly as their ModelSerializer shapes model rows.

A page of 50 updates with their measurements and files builds some 500 model instances and walks
about 20,000 field sources through DRF; the same page read as values, each value formatted by the
serializer's own field, costs a fraction of that. The serializer stays the one description of what
the API answers (the schema, the detail views and the writes use it); a reader takes its fields,
their sources and their formats from it, and ``tests/portal/test_api_rows.py`` holds every reader
to its serializer's output, row for row.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from rest_framework import serializers


@dataclass(frozen=True)
class Many:
    """A list a row shows from another table: the rows of ``queryset`` whose ``parent`` is the row's id,
    shaped by ``reader`` (or, with ``slug``, that one column's values, as a many SlugRelatedField shows)."""

    queryset: object
    parent: str
    reader: "Reader | None" = None
    slug: str = ""


@dataclass
class Reader:
    """Shape ``.values()`` rows as ``serializer_class`` shapes instances; ``many`` gives its nested lists."""

    serializer_class: type
    many: dict[str, Many] = field(default_factory=dict)

    def __post_init__(self):
        fields = self.serializer_class().fields
        self.order = list(fields)
        self.columns, self.formats = {}, {}
        for name, serializer_field in fields.items():
            if name in self.many:
                continue
            if isinstance(serializer_field, (serializers.BaseSerializer, serializers.ManyRelatedField)):
                raise ValueError(f"{self.serializer_class.__name__}.{name}: a nested list needs a Many")
            if serializer_field.source == "*":
                raise ValueError(f"{self.serializer_class.__name__}.{name}: computed fields are not read as values")
            self.columns[name] = serializer_field.source.replace(".", "__")
            self.formats[name] = serializer_field.to_representation

    def lookups(self) -> list[str]:
        return list(dict.fromkeys(self.columns.values()))

    def shape(self, values: dict, nested: dict) -> dict:
        row = {}
        for name, lookup in self.columns.items():
            value = values[lookup]
            # As DRF does: no value is null, never formatted.
            row[name] = None if value is None else self.formats[name](value)
        for name in self.many:
            row[name] = nested[name].get(values["pk"], [])
        # In the serializer's own field order.
        return {name: row[name] for name in self.order}

    def read(self, pks: list) -> list[dict]:
        """The rows with these primary keys, in this order; one query, and one per nested list."""
        model = self.serializer_class.Meta.model
        found = {row["pk"]: row for row in model._base_manager.filter(pk__in=pks).values("pk", *self.lookups())}
        nested = {name: self._read_many(many, pks) for name, many in self.many.items()}
        return [self.shape(found[pk], nested) for pk in pks if pk in found]

    @staticmethod
    def _read_many(many: Many, pks: list) -> dict:
        grouped = defaultdict(list)
        rows = many.queryset.filter(**{f"{many.parent}__in": pks})
        if many.slug:
            for parent, slug in rows.values_list(many.parent, many.slug):
                grouped[parent].append(slug)
            return grouped
        child = many.reader
        for values in rows.values("pk", many.parent, *child.lookups()):
            grouped[values[many.parent]].append(child.shape(values, {}))
        return grouped


def slugs(relation, slug: str) -> Many:
    """The ``slug`` of each row a many-to-many ``relation`` (e.g. ``Activity.tags``) links to, in its model's
    order, as a many SlugRelatedField shows them."""
    field = relation.field
    source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
    ordering = [
        f"-{target}__{name[1:]}" if name.startswith("-") else f"{target}__{name}"
        for name in field.related_model._meta.ordering
    ]
    return Many(relation.through.objects.order_by(*ordering), parent=source, slug=f"{target}__{slug}")
