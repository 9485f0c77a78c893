from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from actionplan.filters import OfficeFilter
from portal.models import Office

from .schema import errors


class OfficeSerializer(serializers.ModelSerializer):
    organization = serializers.CharField(source="organization.code", read_only=True)
    country = serializers.CharField(source="country.iso3", read_only=True)
    region = serializers.CharField(source="country.region", read_only=True)

    class Meta:
        model = Office
        fields = ["code", "name", "organization", "kind", "country", "region", "city", "updated_at"]


@extend_schema_view(list=extend_schema(responses={200: OfficeSerializer(many=True), **errors(400, 404)}),
                    retrieve=extend_schema(responses={200: OfficeSerializer, **errors(404)}))  # fmt: skip
class OfficeViewSet(viewsets.ReadOnlyModelViewSet):
    """Offices of both organisations that implement or report on activities."""

    queryset = Office.objects.select_related("organization", "country").order_by("code")
    serializer_class = OfficeSerializer
    filterset_class = OfficeFilter
    lookup_field = "code"
    lookup_value_regex = r"[^/]+"
