"""The OpenAPI schema, generated once per server process, and its documentation pages."""

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import translation
from drf_spectacular.views import SpectacularAPIView
from rest_framework.response import Response

# Generated schemas by (language, API version). The schema depends on the code alone, and code changes
# only with a deploy, which starts new processes: kept here, a schema is generated once per deploy in
# each process (where a shared cache would have to tell one release's schema from the next).
_schemas: dict[tuple[str | None, str | None], dict] = {}


@receiver(setting_changed)
def _forget_schemas(*, setting, **kwargs):
    # Tests that change the API's settings expect the schema to follow them.
    if setting in {"SPECTACULAR_SETTINGS", "REST_FRAMEWORK", "ROOT_URLCONF", "LANGUAGES"}:
        _schemas.clear()


class SchemaView(SpectacularAPIView):
    """Serve the OpenAPI schema, generating it on the first request only.

    Generating it takes about 100 ms of CPU (500 ms the first time in a process), which anyone could
    otherwise make the portal spend on every anonymous request. It is generated without the caller's
    request, as ``manage.py spectacular`` does: the public schema is the same for everyone, and a cached
    one must not carry whatever the first caller's user might have changed in it."""

    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (translation.get_language(), version)
        schema = _schemas.get(key)
        if schema is None:
            generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
            # Two first requests at once both generate it, and store the same schema: no lock needed.
            schema = _schemas[key] = generator.get_schema(request=None, public=self.serve_public)
        return Response(
            data=schema,
            headers={"Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'},
        )
