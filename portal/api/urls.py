from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from actionplan.api import views as actionplan_views
from actionplan.api.iati import IatiActivitiesView
from actionplan.api.imports import ImportRunViewSet, ImportSummaryCsvView
from steering.api import views as steering_views

from . import docs, views
from .deleted import DeletedViewSet

router = DefaultRouter()
router.register("focus-areas", actionplan_views.FocusAreaViewSet, basename="focus-area")
router.register("periods", actionplan_views.PeriodViewSet, basename="period")
router.register("offices", views.OfficeViewSet, basename="office")
router.register("activities", actionplan_views.ActivityViewSet, basename="activity")
router.register("indicators", actionplan_views.IndicatorViewSet, basename="indicator")
router.register("updates", actionplan_views.UpdateViewSet, basename="update")
router.register("reports", steering_views.ReportViewSet, basename="report")
router.register("deleted", DeletedViewSet, basename="deleted")
router.register("imports", ImportRunViewSet, basename="import")

app_name = "api"
urlpatterns = [
    path("schema/", docs.SchemaView.as_view(), name="schema"),
    # The split view serves the page's script as a file of its own: the Content-Security-Policy refuses inline ones.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    # Redoc draws with styled-components, which writes its styles into <style> elements as it renders, and
    # searches in a worker it makes from a blob: this page alone allows both (its scripts are still the
    # portal's files only, and it shows nothing but the public schema).
    path(
        "redoc/",
        csp_update({"style-src": [UNSAFE_INLINE], "worker-src": [SELF, "blob:"]})(
            SpectacularRedocView.as_view(url_name="api:schema")
        ),
        name="redoc",
    ),
    path("iati/activities.xml", IatiActivitiesView.as_view(), name="iati-activities"),
    path("imports/<str:pk>/summary.csv", ImportSummaryCsvView.as_view(), name="import-summary-csv"),
    *router.urls,
]
