from django.urls import path

from . import views

# The names are allauth's, which its provider reverses (sso.provider); the callback's address is the
# redirect URI registered at each provider: <portal>/accounts/sso/<code in lower case>/callback/.
urlpatterns = [
    path("<slug:provider_id>/login/", views.login, name="openid_connect_login"),
    path("<slug:provider_id>/callback/", views.callback, name="openid_connect_callback"),
]
