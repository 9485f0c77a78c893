from django.utils.translation import gettext as _
from rest_framework.pagination import PageNumberPagination

from portal.errors import InvalidInput


class Pagination(PageNumberPagination):
    """Pages of 50 by default; ``page_size`` from 1 to 500, refused (400) when it is no whole number above 0,
    and ``page`` refused when given empty.

    DRF quietly answers the default size for ``page_size=0`` or ``page_size=x``: a client that asked for
    something else would never learn that it was not given it.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    page_size_query_description = "Results per page, 1 to 500 (50 when left out; a larger number gives 500)"

    def get_page_size(self, request):
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        digits = value.lstrip("0") if value.isascii() and value.isdigit() else ""
        if not digits:
            raise InvalidInput(
                _("page_size must be a whole number from 1 to %(max)d.") % {"max": self.max_page_size},
                field=self.page_size_query_param,
            )
        # A number of any length is capped without int(), which refuses more than 4,300 digits.
        return min(int(digits), self.max_page_size) if len(digits) <= 9 else self.max_page_size

    def get_page_number(self, request, paginator):
        if request.query_params.get(self.page_query_param) == "":
            raise InvalidInput(_("page is empty: give a page number, or leave it out."), field=self.page_query_param)
        return super().get_page_number(request, paginator)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] in (self.page_query_param, self.page_size_query_param):
                parameter["schema"] = {"type": "integer", "minimum": 1}
        return parameters
