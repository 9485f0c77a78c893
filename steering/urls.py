from django.urls import path

from . import views

urlpatterns = [
    path("steering/", views.dashboard_view, name="dashboard"),
]
