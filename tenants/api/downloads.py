"""File downloads through the API (a panel's report, a month's statement).

JSON comes first so that `*/*` (and a browser's Accept) and every error get the one JSON
error shape; the file's own media type is accepted too. The view builds the file itself."""

from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from tenants.api.base import TenantAPIView


class FileRenderer(BaseRenderer):
    """Lets DRF accept a download's own media type (`Accept: application/pdf`)."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class PdfRenderer(FileRenderer):
    media_type = "application/pdf"
    format = "pdf"


class MarkdownRenderer(FileRenderer):
    media_type = "text/markdown"
    format = "md"


class CsvRenderer(FileRenderer):
    media_type = "text/csv"
    format = "csv"


class FileDownloadView(TenantAPIView):
    file_renderer: type[FileRenderer]

    def get_renderers(self):
        return [JSONRenderer(), self.file_renderer()]

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response):  # an error: one JSON shape, whatever was accepted
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
