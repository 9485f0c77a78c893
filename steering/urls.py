from django.urls import path

from . import report_views, signoff_views, views

urlpatterns = [
    path("steering/", views.dashboard_view, name="dashboard"),
    path("steering/meetings/", views.meeting_list, name="meeting-list"),
    path("steering/meetings/<int:pk>/", views.meeting_detail, name="meeting-detail"),
    path("steering/meetings/<int:pk>/record.pdf", views.meeting_pdf, name="meeting-pdf"),
    path("steering/meetings/<int:pk>/reviews/", views.record_review, name="meeting-review"),
    path("steering/meetings/<int:pk>/reviews/figures/", views.review_figures, name="meeting-review-figures"),
    path("steering/meetings/<int:pk>/reviews/<int:review_pk>/", views.review_edit, name="meeting-review-edit"),
    path(
        "steering/meetings/<int:pk>/reviews/<int:review_pk>/delete/", views.review_delete, name="meeting-review-delete"
    ),
    path("steering/meetings/<int:pk>/decisions/<int:decision_pk>/", views.decision_edit, name="meeting-decision-edit"),
    path(
        "steering/meetings/<int:pk>/decisions/<int:decision_pk>/delete/",
        views.decision_delete,
        name="meeting-decision-delete",
    ),
    path("steering/meetings/<int:pk>/decisions/", views.add_decision, name="meeting-decision"),
    path("steering/meetings/<int:pk>/action-items/", views.add_action_item, name="meeting-action-item"),
    path("steering/meetings/<int:pk>/minutes/", views.save_minutes, name="meeting-minutes"),
    path("steering/signoffs/<int:pk>/sign/", signoff_views.sign, name="signoff-sign"),
    path("steering/signoffs/<int:pk>/decline/", signoff_views.decline, name="signoff-decline"),
    path("steering/action-items/", views.action_items, name="action-items"),
    path("steering/action-items/<int:pk>/", views.action_item_detail, name="action-item-detail"),
    path("steering/reports/", report_views.report_list, name="report-list"),
    path("steering/reports/compare/", report_views.report_compare, name="report-compare"),
    path("steering/reports/<uuid:pk>/", report_views.report_detail, name="report-detail"),
    path("steering/reports/<uuid:pk>/state/", report_views.report_state, name="report-state"),
    path("steering/reports/<uuid:pk>/retry/", report_views.report_retry, name="report-retry"),
    path("steering/reports/<uuid:pk>/endorsement/", report_views.report_submit, name="report-submit"),
    path("steering/reports/<uuid:pk>/languages/", report_views.report_languages, name="report-languages"),
    path("steering/reports/<uuid:pk>/render/", report_views.report_render, name="report-render"),
    path("steering/reports/<uuid:pk>/pdf/", report_views.report_download, {"kind": "pdf"}, name="report-pdf"),
    path("steering/reports/<uuid:pk>/xlsx/", report_views.report_download, {"kind": "xlsx"}, name="report-xlsx"),
]
