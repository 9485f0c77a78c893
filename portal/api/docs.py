"""The OpenAPI schema, generated and rendered once per server process, and its documentation pages."""

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpResponse
from django.utils import translation
from drf_spectacular.views import SpectacularAPIView

# Generated schemas by language. The schema depends on the code alone, and code changes only with a deploy,
# which starts new processes: kept here, a schema is generated once per deploy in each process (where a
# shared cache would have to tell one release's schema from the next).
_schemas: dict[str, dict] = {}
# The schemas rendered, by language and media type (YAML or JSON under two names each): its body and Content-Type.
_rendered: dict[tuple[str, str], tuple[bytes, str]] = {}


@receiver(setting_changed)
def _forget_schemas(*, setting, **kwargs):
    # Tests that change the API's settings expect the schema to follow them.
    if setting in {"SPECTACULAR_SETTINGS", "REST_FRAMEWORK", "ROOT_URLCONF", "LANGUAGES"}:
        _schemas.clear()
        _rendered.clear()


class SchemaView(SpectacularAPIView):
    """Serve the OpenAPI schema, generating it and rendering it (YAML or JSON) on the first request only.

    Generating it takes about 100 ms of CPU (500 ms the first time in a process), which anyone could
    otherwise make the portal spend on every anonymous request. It is generated without the caller's
    request, as ``manage.py spectacular`` does: the public schema is the same for everyone, and a cached
    one must not carry whatever the first caller's user might have changed in it."""

    def _get_schema_response(self, request):
        # One schema per language the portal speaks: any other ?lang= gets the default language's (what
        # generating under it would give), so that callers cannot fill the memory with languages. The API
        # is versioned by its path (/api/v1/), so drf-spectacular's ?version= (which only relabels the
        # schema's version with whatever it is given) is ignored for the same reason.
        try:
            language = translation.get_supported_language_variant(translation.get_language() or "")
        except LookupError:
            language = settings.LANGUAGE_CODE
        # Rendering it (as YAML above all) costs about as much again as generating it: kept rendered too, the
        # media type chosen from the renderer's own so that an Accept header's parameters (JSON's indent=)
        # cannot fill the memory either.
        renderer = request.accepted_renderer
        rendered = _rendered.get((language, renderer.media_type))
        if rendered is None:
            schema = self._schema(language)
            with translation.override(language):  # any text left lazy in it is written in its language
                content = renderer.render(schema, renderer.media_type, self.get_renderer_context())
            content_type = (
                f"{renderer.media_type}; charset={renderer.charset}" if renderer.charset else renderer.media_type
            )
            rendered = _rendered[(language, renderer.media_type)] = (content, content_type)
        content, content_type = rendered
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'inline; filename="{self._get_filename(request, None)}"'
        return response

    def _schema(self, language: str) -> dict:
        schema = _schemas.get(language)
        if schema is None:
            generator = self.generator_class(urlconf=self.urlconf, api_version=None, patterns=self.patterns)
            # Two first requests at once both generate it, and store the same schema: no lock needed.
            with translation.override(language):
                schema = _schemas[language] = generator.get_schema(request=None, public=self.serve_public)
        return schema
