from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("accounts/profile/", views.profile, name="profile"),
    path("accounts/tokens/", views.tokens, name="tokens"),
    path("notifications/", views.notification_list, name="notifications"),
    path("accounts/tokens/<str:digest>/revoke/", views.revoke, name="revoke-token"),
    path("", include("actionplan.urls")),
    path("", include("steering.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("portal.api.urls")),
]

handler404 = "portal.views.not_found"
handler500 = "portal.views.server_error"
