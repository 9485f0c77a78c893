from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from . import auth_views, health, views

urlpatterns = [
    path("", views.home, name="home"),
    path(".well-known/security.txt", views.security_txt, name="security-txt"),
    path("healthz", health.alive, name="healthz"),
    path("readyz", health.ReadinessView.as_view(), name="readyz"),
    # Before Django's own: the same names, with the portal's limits and revocations.
    path("accounts/login/", auth_views.login, name="login"),
    # Single sign-on through each organisation's OpenID Connect provider (sso app).
    path("accounts/sso/", include("sso.urls")),
    path("accounts/password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password_reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("accounts/profile/", views.profile, name="profile"),
    path("accounts/tokens/", views.tokens, name="tokens"),
    path("notifications/", views.notification_list, name="notifications"),
    path("language/", views.switch_language, name="switch-language"),
    path("accounts/tokens/<str:digest>/revoke/", views.revoke, name="revoke-token"),
    path("", include("actionplan.urls")),
    path("", include("steering.urls")),
    path("webhooks/", include("webhooks.urls")),
    path("admin/login/", auth_views.admin_login),
    path("admin/", admin.site.urls),
    path("api/v1/", include("portal.api.urls")),
]

if settings.BENCHMARK_FLOORS:
    # The least this server does for each kind of request, for the benchmark's ratios; never in a deployment.
    urlpatterns.append(path("benchmark-floors/", include("portal.bench.floors")))

handler400 = "portal.views.bad_request"
handler403 = "portal.views.forbidden"
handler404 = "portal.views.not_found"
handler500 = "portal.views.server_error"
