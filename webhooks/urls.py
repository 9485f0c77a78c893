from django.urls import path

from . import views

urlpatterns = [
    path("", views.webhooks, name="webhooks"),
    path("<int:pk>/switch/", views.switch, name="webhook-switch"),
    path("deliveries/<int:pk>/resend/", views.resend, name="webhook-resend"),
]
