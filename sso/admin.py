"""django-allauth's own tables are not used: providers come from the environment and accounts are never
linked or made through them (sso.adapter), so their admin pages, which would suggest otherwise, are removed."""

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django.contrib import admin

for model in (EmailAddress, SocialAccount, SocialApp, SocialToken):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
