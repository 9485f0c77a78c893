"""The IATI activity file through the API: what the browser downloads, for partner systems."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from actionplan.iati.serve import serve
from portal.api.schema import ErrorSerializer, errors
from portal.api.throttling import ExportThrottle, UserRateThrottle


class ProblemSerializer(serializers.Serializer):
    activity = serializers.CharField(help_text="The activity's iati-identifier")
    element = serializers.CharField(help_text="The element's path in the activity, e.g. result[2]/indicator/baseline")
    rule = serializers.CharField(help_text='"schema" (the official IATI 2.03 XSD), or the name of an IATI rule')
    message = serializers.CharField(help_text="What is wrong, as the schema or the rule says it (in English)")


class RefusedExportSerializer(ErrorSerializer):
    errors = ProblemSerializer(many=True, help_text="The problems, the first 50")
    problem_count = serializers.IntegerField(help_text="How many problems there are in all")


class JsonRefusals(BaseContentNegotiation):
    """Answer JSON to whatever the client accepts: the file is XML, and a refusal JSON, as everywhere in the API."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class IatiActivitiesView(APIView):
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JsonRefusals
    throttle_classes = [UserRateThrottle, ExportThrottle]

    @extend_schema(
        operation_id="iati_activities",
        parameters=[
            OpenApiParameter("focus_area", str, description="Focus area code: only its activities (e.g. CYB)"),
            OpenApiParameter("activity", str, description="Activity code: only that activity (e.g. CYB-1.1)"),
        ],
        responses={
            (200, "application/xml"): OpenApiResponse(
                OpenApiTypes.BINARY, description="An IATI 2.03 activity file, valid against the official schema"
            ),
            409: OpenApiResponse(
                RefusedExportSerializer,
                description="The export breaks the IATI schema or one of its rules: nothing is exported",
            ),
            **errors(400, 403, 404),
        },
    )
    def get(self, request):
        """The plan's activities (or a focus area's, or one activity) as IATI 2.03 XML (programme officers and the
        committee). Restricted activities are never included; results carry approved figures only."""
        query = request.query_params
        return serve(request, focus_area=query.get("focus_area"), activity=query.get("activity"))
