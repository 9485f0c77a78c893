"""The change feed's deletions: ``GET /api/v1/deleted/?since=``, the tombstones the caller may see."""

import django_filters
from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets

from portal.errors import ResyncRequired
from portal.models import Tombstone
from portal.tombstones import horizon

from .filters import UtcIsoDateTimeField, UtcIsoDateTimeFilter
from .schema import errors


class DeletedFilter(django_filters.FilterSet):
    since = UtcIsoDateTimeFilter(
        field_name="deleted_at",
        lookup_expr="gte",
        required=True,
        label=(
            "Deleted at or after (ISO 8601). Required; no earlier than TOMBSTONE_DAYS (90 by default) ago, "
            "else the answer is 410: synchronise in full"
        ),
    )
    kind = django_filters.ChoiceFilter(choices=Tombstone.Kind.choices)

    class Meta:
        model = Tombstone
        fields = ["since", "kind"]


def check_retention(since) -> None:
    """Refuse (410) a ``since`` before the oldest deletion still known: older ones may be purged already,
    and an answer without them would leave rows in the client's copy that are gone."""
    oldest = horizon(days=settings.TOMBSTONE_DAYS)
    if since < oldest:
        raise ResyncRequired(
            _(
                "Deletions are kept %(days)d days: since is before %(oldest)s. Read every list again in "
                "full, then ask for deletions since the time that full read began."
            )
            % {"days": settings.TOMBSTONE_DAYS, "oldest": oldest.isoformat()},
            field="since",
            oldest=oldest.isoformat(),
        )


class TombstoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tombstone
        # identifier: the row's code (activity, indicator, focus area, period, office) or id (update,
        # evidence file, report), as its own endpoint shows it.
        fields = ["kind", "identifier", "deleted_at"]


@extend_schema_view(list=extend_schema(responses={200: TombstoneSerializer(many=True), **errors(400, 404, 410)}))
class DeletedViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Rows deleted since a time, of those you could read: apply them to a copy kept with ``updated_since``.

    Each is its kind and its identifier as the kind's own endpoint shows it, and when it was deleted,
    oldest first. A measurement or a period target is part of its update's or indicator's answer:
    its deletion brings the update or indicator back in ``updated_since`` instead.
    """

    serializer_class = TombstoneSerializer
    filterset_class = DeletedFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Tombstone.objects.none()
        return Tombstone.objects.visible_to(self.request.user).order_by("deleted_at", "id")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        # Once the request is otherwise valid (filters, then page), so that a malformed one learns what is wrong.
        check_retention(UtcIsoDateTimeField().clean(request.query_params["since"]))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
