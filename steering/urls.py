from django.urls import path

from . import views

urlpatterns = [
    path("steering/", views.dashboard_view, name="dashboard"),
    path("steering/meetings/", views.meeting_list, name="meeting-list"),
    path("steering/meetings/<int:pk>/", views.meeting_detail, name="meeting-detail"),
    path("steering/meetings/<int:pk>/record.pdf", views.meeting_pdf, name="meeting-pdf"),
    path("steering/meetings/<int:pk>/reviews/", views.record_review, name="meeting-review"),
    path("steering/meetings/<int:pk>/decisions/", views.add_decision, name="meeting-decision"),
    path("steering/meetings/<int:pk>/action-items/", views.add_action_item, name="meeting-action-item"),
    path("steering/meetings/<int:pk>/approve/", views.approve_minutes, name="meeting-approve"),
    path("steering/action-items/", views.action_items, name="action-items"),
    path("steering/action-items/<int:pk>/", views.action_item_detail, name="action-item-detail"),
]
