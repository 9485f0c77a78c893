"""The field-office API: reads scoped to the user, writes through the update services."""

from django.conf import settings
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from actionplan import bulk as bulk_updates
from actionplan import evidence as evidence_files
from actionplan import services
from actionplan.figures import current_period
from actionplan.filters import ActivityFilter, IndicatorFilter, PeriodFilter, UpdateFilter
from actionplan.models import (
    Activity,
    FocusArea,
    Indicator,
    PeriodTarget,
    ProgressUpdate,
    ReportingPeriod,
    fetch_details_of_new,
)
from audit import services as audit
from portal.api.conditional import etag, expected_version, idempotent
from portal.api.schema import IDEMPOTENT, IF_MATCH, errors
from portal.api.strict import shown
from portal.errors import FileTooLarge, InvalidInput, NotAllowed
from portal.idempotency import canonical_json, fingerprint
from portal.models import Office
from portal.roles import sees_whole_plan

from . import serializers as s
from .figures import indicator_figures

CODE_LOOKUP = r"[^/]+"


class CodeLookupMixin:
    lookup_field = "code"
    lookup_value_regex = CODE_LOOKUP


class LogsRestrictedRows:
    """A list that writes to the access log a view of each row of a restricted activity on the page it answers."""

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = list(page if page is not None else queryset)
        data = self.get_serializer(rows, many=True).data
        audit.record_restricted_rows(request, rows)
        return self.get_paginated_response(data) if page is not None else Response(data)


class ListsValues:
    """A list whose page is read as values by ``self.rows()`` (a ``portal.api.rows.Reader``), each restricted
    row on it written to the access log (``self.restricted(pks)``: those rows as instances, read only when
    there are any; ``sensitivity``: the lookup of a row's activity's sensitivity)."""

    sensitivity: str

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()).values_list("pk", self.sensitivity))
        data = self.rows().read([pk for pk, _sensitivity in page])
        restricted = [pk for pk, sensitivity in page if sensitivity == Activity.Sensitivity.RESTRICTED]
        if restricted:
            audit.record_restricted_rows(request, self.restricted(restricted))
        return self.get_paginated_response(data)


@extend_schema_view(list=extend_schema(responses={200: s.FocusAreaSerializer(many=True), **errors(400, 404)}),
                    retrieve=extend_schema(responses={200: s.FocusAreaSerializer, **errors(404)}))  # fmt: skip
class FocusAreaViewSet(CodeLookupMixin, viewsets.ReadOnlyModelViewSet):
    """The plan's focus areas."""

    queryset = FocusArea.objects.select_related("plan").order_by("order", "code")
    serializer_class = s.FocusAreaSerializer
    filterset_fields = []


@extend_schema_view(list=extend_schema(responses={200: s.PeriodSerializer(many=True), **errors(400, 404)}),
                    retrieve=extend_schema(responses={200: s.PeriodSerializer, **errors(404)}))  # fmt: skip
class PeriodViewSet(CodeLookupMixin, viewsets.ReadOnlyModelViewSet):
    """Reporting periods, with their due dates and whether they are open or locked."""

    queryset = ReportingPeriod.objects.select_related("plan").order_by("starts_on", "code")
    serializer_class = s.PeriodSerializer
    filterset_class = PeriodFilter


@extend_schema_view(list=extend_schema(responses={200: s.ActivitySerializer(many=True), **errors(400, 404)}),
                    retrieve=extend_schema(responses={200: s.ActivityDetailSerializer, **errors(404)}))  # fmt: skip
class ActivityViewSet(ListsValues, CodeLookupMixin, viewsets.ReadOnlyModelViewSet):
    """Activities you may see: for a field reporter, those its offices implement."""

    filterset_class = ActivityFilter
    sensitivity = "sensitivity"

    def rows(self):
        return s.activity_rows()

    def restricted(self, pks):
        return Activity.objects.filter(pk__in=pks)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Activity.objects.none()
        queryset = Activity.objects.visible_to(self.request.user).order_by("code")
        if self.action == "list":
            return queryset
        queryset = queryset.select_related("objective__focus_area", "lead_organization").prefetch_related(
            "partner_organizations", "implementing_offices", "beneficiary_countries", "tags"
        )
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                "indicators__activity",
                "indicators__objective",
                Prefetch("indicators__period_targets", PeriodTarget.objects.select_related("period")),
            )
        return queryset

    def get_serializer_class(self):
        return s.ActivityDetailSerializer if self.action == "retrieve" else s.ActivitySerializer

    def retrieve(self, request, *args, **kwargs):
        activity = self.get_object()
        audit.record_restricted_view(request, activity)
        return Response(self.get_serializer(activity).data)


@extend_schema_view(list=extend_schema(responses={200: s.IndicatorSerializer(many=True), **errors(400, 404)}),
                    retrieve=extend_schema(responses={200: s.IndicatorSerializer, **errors(404)}))  # fmt: skip
class IndicatorViewSet(LogsRestrictedRows, CodeLookupMixin, viewsets.ReadOnlyModelViewSet):
    """Indicators of the activities you may see, and of the plan's objectives."""

    serializer_class = s.IndicatorSerializer
    filterset_class = IndicatorFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Indicator.objects.none()
        return (
            Indicator.objects.visible_to(self.request.user)
            .select_related("activity__objective__focus_area__plan", "objective__focus_area__plan")
            .prefetch_related(Prefetch("period_targets", PeriodTarget.objects.select_related("period")))
            .order_by("code")
        )

    def retrieve(self, request, *args, **kwargs):
        indicator = self.get_object()
        audit.record_restricted_view(request, indicator.activity, indicator)
        return Response(self.get_serializer(indicator).data)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "period", str, description=_("Period code: the figure as it stood then (default: current)")
            ),
            OpenApiParameter(
                "office",
                str,
                many=True,
                description=_("Office code(s): combine only these offices' values (a field reporter: its own)"),
            ),
        ],
        responses={200: s.IndicatorFiguresSerializer, **errors(400, 403, 404)},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def figures(self, request, code=None):
        """The indicator's figure by its own rule at a period, its figures over the periods, and its breakdown."""
        indicator = self.get_object()
        plan = (indicator.activity.objective if indicator.activity else indicator.objective).focus_area.plan
        periods = list(ReportingPeriod.objects.filter(plan=plan).order_by("starts_on"))
        period = current_period(periods)
        if request.query_params.get("period"):
            period = next((p for p in periods if p.code == request.query_params["period"]), None)
            if period is None:
                raise InvalidInput(
                    _("Unknown period %(code)s.") % {"code": request.query_params["period"]}, field="period"
                )
        offices = self._offices(request.query_params.getlist("office"))
        data = indicator_figures(indicator, periods=periods, period=period, offices=offices)
        audit.record_restricted_view(request, indicator.activity, indicator)
        return Response(s.IndicatorFiguresSerializer(data).data)

    def _offices(self, codes):
        if not codes:
            return None
        found = {office.code: office for office in Office.objects.filter(code__in=codes)}
        unknown = sorted(set(codes) - set(found))
        if unknown:
            raise InvalidInput(_("Unknown office %(codes)s.") % {"codes": ", ".join(unknown)}, field="office")
        own = set(Office.objects.filter(memberships__user=self.request.user).values_list("code", flat=True))
        if not sees_whole_plan(self.request.user) and not set(found) <= own:
            raise NotAllowed(_("You may ask for the figures of your own offices only."), field="office")
        return list(found.values())


CREATE_EXAMPLE = OpenApiExample(
    "A submitted update with one measurement",
    request_only=True,
    value={
        "activity": "CYB-1.4",
        "period": "2020-Q2",
        "office": "UNODC-ROSEAP",
        "rag": "on_track",
        "percent_complete": 60,
        "narrative": "Two national workshops delivered.",
        "challenges": "",
        "next_steps": "Mentoring in the next quarter.",
        "measurements": [{"indicator": "CYB-1.4-I1", "value": 42, "note": "Participants"}],
        "submit": True,
    },
)


def _may_review(view, request, pk=None):
    view.get_object()  # an update the caller may not see is 404 to it, as to anyone
    services.check_may_review(request.user)


@extend_schema_view(
    list=extend_schema(responses={200: s.UpdateSerializer(many=True), **errors(400, 404)}),
    retrieve=extend_schema(responses={200: s.UpdateSerializer, **errors(404)}),
)
class UpdateViewSet(ListsValues, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Progress updates: a field reporter sees and writes those of its offices."""

    serializer_class = s.UpdateSerializer
    filterset_class = UpdateFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    sensitivity = "activity__sensitivity"

    def rows(self):
        return s.update_rows()

    def restricted(self, pks):
        return ProgressUpdate.objects.select_related("activity", "period", "office").filter(pk__in=pks)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ProgressUpdate.objects.none()
        updates = ProgressUpdate.objects.visible_to(self.request.user).order_by("updated_at", "id")
        # A page of the list is read as values (``list``); one update, with its related rows.
        return updates if self.action == "list" else updates.with_details()

    def get_object(self):
        # Read once a request: the check before an idempotent action and the action see the same row.
        if not hasattr(self, "_object"):
            self._object = super().get_object()
        return self._object

    def _answer(self, update, status_code=status.HTTP_200_OK):
        # The update the service just wrote for the caller, who may therefore read it: read by its key alone.
        return self._show(ProgressUpdate.objects.with_details().get(pk=update.pk), status_code)

    def _show(self, update, status_code):
        headers = {"ETag": etag(update.version)}
        if status_code == status.HTTP_201_CREATED:
            headers["Location"] = reverse("api:update-detail", kwargs={"pk": update.pk})
        return Response(s.update_shape().to_representation(update), status=status_code, headers=headers)

    def retrieve(self, request, *args, **kwargs):
        update = self.get_object()
        audit.record_restricted_view(request, update.activity, update)
        return Response(s.update_shape().to_representation(update), headers={"ETag": etag(update.version)})

    @extend_schema(
        request=s.UpdateCreateSerializer,
        responses={201: s.UpdateSerializer, **errors(400, 403, 409, 413, 422)},
        parameters=IDEMPOTENT,
        examples=[CREATE_EXAMPLE],
    )
    @idempotent(authorize=lambda view, request: services.check_may_write_updates(request.user))
    def create(self, request):
        """Create an update, as a draft or submitted; retry safely with an Idempotency-Key."""
        serializer = s.update_create_serializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        update = services.create_update(by=request.user, source=ProgressUpdate.Source.API, **serializer.validated_data)
        # Shown as it was written rather than read again: the answer to nearly every call of a busy endpoint.
        fetch_details_of_new(update, measured=bool(serializer.validated_data["measurements"]))
        return self._show(update, status.HTTP_201_CREATED)

    @extend_schema(
        request=s.UpdatePatchSerializer,
        responses={200: s.UpdateSerializer, **errors(400, 403, 404, 409, 412, 413, 428)},
        parameters=[IF_MATCH],
    )
    def partial_update(self, request, pk=None):
        """Change a draft or returned update; If-Match must carry its current ETag."""
        update = self.get_object()
        version = expected_version(request)
        serializer = s.UpdatePatchSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        measurements = changes.pop("measurements", None)
        update = services.edit_update(
            by=request.user, update=update, expected_version=version, changes=changes, measurements=measurements
        )
        return self._answer(update)

    @extend_schema(
        request=s.SubmitSerializer,
        responses={200: s.UpdateSerializer, **errors(400, 403, 404, 409, 422)},
        parameters=IDEMPOTENT,
    )
    @action(detail=True, methods=["post"])
    @idempotent(authorize=lambda view, request, pk=None: services.check_may_submit(request.user, view.get_object()))
    def submit(self, request, pk=None):
        """Submit a draft or returned update for review, with an optional note for the officer."""
        update = self.get_object()
        serializer = s.SubmitSerializer(data=request.data if isinstance(request.data, dict) else {})
        serializer.is_valid(raise_exception=True)
        return self._answer(services.submit_update(by=request.user, update=update, **serializer.validated_data))

    @extend_schema(
        request=None,
        responses={200: s.UpdateSerializer, **errors(400, 403, 404, 409, 422)},
        parameters=IDEMPOTENT,
    )
    @action(detail=True, methods=["post"])
    @idempotent(authorize=lambda view, request, pk=None: services.check_may_withdraw(request.user, view.get_object()))
    def withdraw(self, request, pk=None):
        """Take a submitted update not yet reviewed back to draft."""
        return self._answer(services.withdraw_update(by=request.user, update=self.get_object()))

    @extend_schema(
        methods=["GET"],
        responses={200: s.CommentSerializer(many=True), **errors(404)},
    )
    @extend_schema(
        methods=["POST"],
        request=s.CommentSerializer,
        responses={201: s.CommentSerializer, **errors(400, 403, 404, 409, 413, 422)},
        parameters=IDEMPOTENT,
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def comments(self, request, pk=None):
        """The conversation on the update, in order; POST adds a message (not once it is approved)."""
        update = self.get_object()
        if request.method == "GET":
            audit.record_restricted_view(request, update.activity, update)
            return Response(s.CommentSerializer(update.comments.select_related("author"), many=True).data)
        services.check_may_comment(request.user, update)  # before the key and the body are read
        return self._comment(request, update)

    @idempotent
    def _comment(self, request, update):
        serializer = s.CommentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        comment = services.add_comment(by=request.user, update=update, text=serializer.validated_data["text"])
        return Response(s.CommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.ReviewSerializer,
        responses={200: s.UpdateSerializer, **errors(400, 403, 404, 409, 413, 422)},
        parameters=IDEMPOTENT,
    )
    @action(detail=True, methods=["post"])
    @idempotent(authorize=_may_review)
    def approve(self, request, pk=None):
        """Approve a submitted update (programme officers)."""
        update = self.get_object()
        serializer = s.ReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._answer(services.approve_update(by=request.user, update=update, **serializer.validated_data))

    @extend_schema(
        request=s.ReturnSerializer,
        responses={200: s.UpdateSerializer, **errors(400, 403, 404, 409, 413, 422)},
        parameters=IDEMPOTENT,
    )
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    @idempotent(authorize=_may_review)
    def return_(self, request, pk=None):
        """Return a submitted update to its office with a comment (programme officers)."""
        update = self.get_object()
        serializer = s.ReturnSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._answer(services.return_update(by=request.user, update=update, **serializer.validated_data))

    @extend_schema(
        request={"multipart/form-data": s.EvidenceUploadSerializer},
        responses={201: s.EvidenceSerializer, **errors(400, 403, 404, 409, 413, 415, 422, 503)},
        parameters=IDEMPOTENT,
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def evidence(self, request, pk=None):
        """Attach a file (PDF, DOCX, XLSX, CSV, PNG, JPEG; checked by content) to a draft or returned update."""
        update = self.get_object()
        # Refuse one who may not attach, then an oversized upload, before reading it.
        evidence_files.check_may_change_files(request.user, update, _("add"))
        if int(request.META.get("CONTENT_LENGTH") or 0) > settings.EVIDENCE_MAX_BYTES + 64 * 1024:
            raise FileTooLarge(
                _("The upload is larger than the %(limit)d-byte limit.") % {"limit": settings.EVIDENCE_MAX_BYTES},
                field="file",
            )
        return self._upload_evidence(request, update)

    @extend_schema(request=None, responses={204: None, **errors(403, 404, 409)})
    @action(detail=True, methods=["delete"], url_path=r"evidence/(?P<evidence_id>[^/]+)", url_name="evidence-remove")
    def remove_evidence(self, request, pk=None, evidence_id=None):
        """Remove a file from a draft or returned update."""
        update = self.get_object()
        file = get_object_or_404(update.evidence.all(), pk=evidence_id)
        evidence_files.remove_evidence(by=request.user, evidence=file)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @idempotent
    def _upload_evidence(self, request, update):
        serializer = s.EvidenceUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        evidence = evidence_files.add_evidence(by=request.user, update=update, upload=serializer.validated_data["file"])
        return Response(s.EvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.BulkItemSerializer(many=True),
        responses={200: s.BulkResultSerializer(many=True), **errors(400, 413, 422)},
        parameters=IDEMPOTENT,
    )
    # Not a list of updates: no pagination and no filters (the schema would say otherwise).
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[])
    @idempotent(authorize=lambda view, request: services.check_may_write_updates(request.user))
    def bulk(self, request):
        """Create up to 200 updates; each item stands alone and is retried safely by its client_key."""
        items = request.data
        if not isinstance(items, list):
            raise InvalidInput(_("Send a JSON array of updates."))
        if len(items) > s.BULK_MAX_ITEMS:
            raise InvalidInput(
                _("Send at most %(max)d updates at once; this request has %(count)d.")
                % {"max": s.BULK_MAX_ITEMS, "count": len(items)}
            )
        serializer = s.bulk_item_serializer(self.get_serializer_context(), items)
        checked = [self._bulk_item(serializer, index, item) for index, item in enumerate(items)]
        created = bulk_updates.create_updates(
            by=request.user, items=[item for item in checked if isinstance(item, bulk_updates.Item)],
            source=ProgressUpdate.Source.API,
        )  # fmt: skip
        answers = {answer.index: answer for answer in [*checked, *created] if isinstance(answer, bulk_updates.Answer)}
        return Response([answers[index].as_dict() for index in range(len(items))])

    def _bulk_item(self, serializer, index, item) -> bulk_updates.Item | bulk_updates.Answer:
        """The item as the bulk create takes it, or the answer of a malformed one."""
        if not isinstance(item, dict):
            errors = {"non_field_errors": [_("Each item must be an object.")]}
            return bulk_updates.Answer(index, status.HTTP_400_BAD_REQUEST, errors=errors)
        try:
            values = dict(serializer.run_validation(item))
        except ValidationError as error:
            # The errors echo the item's keys, and the answer is kept for a retry as JSON, which PostgreSQL
            # refuses with a NUL in it.
            return bulk_updates.Answer(index, status.HTTP_400_BAD_REQUEST, errors=shown(error.detail))
        client_key = values.pop("client_key")
        return bulk_updates.Item(index, client_key, fingerprint(canonical_json(item)), services.NewUpdate(**values))
