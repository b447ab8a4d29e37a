import json
import time

from django.db import connection
from django.http import HttpResponse, StreamingHttpResponse
from django_tenants.utils import schema_context
from rest_framework import serializers, status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from agents.api.serializers import AgentSerializer
from agents.domains import DOMAINS
from agents.ranking import DEFAULT_K, MAX_K
from config.api.pagination import PageNumberPagination
from tenants.api.base import TenantAPIView
from panels.api.serializers import ContributionSerializer, PanelDetailSerializer, PanelSummarySerializer
from panels.lifecycle import FINAL, Status
from panels.reports import report_markdown, report_pdf
from panels.selectors import experts_recommend, panel_detail, panel_events, panel_get, panel_list
from panels.services import panel_cancel, panel_create, panel_human_input, panel_rate
from panels.types import REGISTRY

SSE_SECONDS = 120


class AgentRecommendView(TenantAPIView):
    """Ranked experts for a question, with scores and why (`agents/recommend/`; it lives with
    panels because a panel type decides the debate roles)."""

    class InputSerializer(serializers.Serializer):
        q = serializers.CharField(min_length=3, max_length=5000)
        k = serializers.IntegerField(min_value=1, max_value=MAX_K, default=DEFAULT_K)
        panel_type = serializers.ChoiceField(choices=list(REGISTRY), required=False)
        domain = serializers.MultipleChoiceField(choices=list(DOMAINS), required=False)

    def get(self, request):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        ranked = experts_recommend(question=data["q"], k=data["k"], panel_type=data.get("panel_type"),
                                   domains=sorted(data["domain"]) if data.get("domain") else None)
        agents = AgentSerializer([item.agent for item in ranked], many=True).data  # fields built once
        return Response({
            "query": data["q"],
            "panel_type": data.get("panel_type"),
            "results": [
                {"agent": agent, "score": item.score, "relevance": item.relevance, "role": item.role,
                 "reasons": item.reasons}
                for item, agent in zip(ranked, agents)
            ],
        })


class PanelListView(TenantAPIView):
    class InputSerializer(serializers.Serializer):
        query = serializers.CharField(max_length=6000, trim_whitespace=True)
        panel_type = serializers.ChoiceField(choices=list(REGISTRY))
        experts = serializers.ListField(child=serializers.SlugField(), required=False, allow_empty=False, max_length=20)
        max_rounds = serializers.IntegerField(required=False, min_value=1, max_value=10)
        documents = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=100)

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=[s.lower() for s in Status.values], required=False)
        panel_type = serializers.ChoiceField(choices=list(REGISTRY), required=False)

    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(panel_list(user=request.user, **filters.validated_data), request, view=self)
        return paginator.get_paginated_response(PanelSummarySerializer(page, many=True).data)

    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        panel = panel_create(user=request.user, **data.validated_data)
        return Response(PanelDetailSerializer(panel_detail(user=request.user, panel_id=panel.pk)).data,
                        status=status.HTTP_201_CREATED)


class PanelDetailView(TenantAPIView):
    def get(self, request, panel_id):
        return Response(PanelDetailSerializer(panel_detail(user=request.user, panel_id=panel_id)).data)


class PanelCancelView(TenantAPIView):
    def post(self, request, panel_id):
        panel = panel_cancel(panel=panel_get(user=request.user, panel_id=panel_id))
        return Response(PanelSummarySerializer(panel).data)


class PanelHumanInputView(TenantAPIView):
    class InputSerializer(serializers.Serializer):
        expert_name = serializers.CharField(max_length=200)
        text = serializers.CharField(max_length=5000)

    def post(self, request, panel_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contribution = panel_human_input(panel=panel_get(user=request.user, panel_id=panel_id), **data.validated_data)
        return Response(ContributionSerializer(contribution).data, status=status.HTTP_201_CREATED)


class PanelRatingView(TenantAPIView):
    class InputSerializer(serializers.Serializer):
        score = serializers.IntegerField(min_value=1, max_value=5)
        comment = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    def post(self, request, panel_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rating = panel_rate(panel=panel_get(user=request.user, panel_id=panel_id), user=request.user,
                            **data.validated_data)
        return Response({"score": rating.score, "comment": rating.comment}, status=status.HTTP_201_CREATED)


def _event(event) -> dict:
    return {"seq": event.id, "kind": event.kind, "data": event.data, "at": event.created_at.isoformat()}


class EventStreamRenderer(BaseRenderer):
    """Lets DRF accept `Accept: text/event-stream`; the view streams the events itself."""

    media_type = "text/event-stream"
    format = "sse"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, (bytes, str)) else json.dumps(data)


class PanelEventsView(TenantAPIView):
    """Progress events: Server-Sent Events (Accept: text/event-stream), or JSON with ?after=<seq>.

    A stream resumes after `?after=<seq>`, or after the `Last-Event-ID` header that an
    EventSource sends by itself when it reconnects (the header wins: it is newer)."""

    renderer_classes = [JSONRenderer, EventStreamRenderer]

    class InputSerializer(serializers.Serializer):
        after = serializers.IntegerField(min_value=0, default=0)

    def get(self, request, panel_id):
        panel = panel_get(user=request.user, panel_id=panel_id)
        query = request.query_params.copy()
        if request.headers.get("Last-Event-ID"):
            query["after"] = request.headers["Last-Event-ID"]
        params = self.InputSerializer(data=query)
        params.is_valid(raise_exception=True)
        after = params.validated_data["after"]
        if "text/event-stream" in request.headers.get("Accept", ""):
            response = StreamingHttpResponse(self._stream(panel.pk, connection.schema_name, after),
                                             content_type="text/event-stream")
            response["Cache-Control"] = "no-cache"
            response["X-Accel-Buffering"] = "no"
            return response
        events = panel_events(panel=panel, after=after)
        panel.refresh_from_db(fields=["status", "current_round"])
        return Response({"status": panel.status.lower(), "current_round": panel.current_round,
                         "rounds": panel.max_rounds, "events": [_event(e) for e in events],
                         "last_seq": events[-1].id if events else after})

    @staticmethod
    def _stream(panel_id: int, schema: str, after: int):
        from panels.models import Panel

        deadline = time.monotonic() + SSE_SECONDS
        with schema_context(schema):  # the stream runs after the request's middleware is done
            while time.monotonic() < deadline:
                panel = Panel.objects.get(pk=panel_id)
                for event in panel_events(panel=panel, after=after):
                    after = event.id
                    yield f"id: {event.id}\nevent: {event.kind}\ndata: {json.dumps(_event(event))}\n\n"
                if panel.status in FINAL:
                    yield "event: end\ndata: {}\n\n"
                    return
                yield ": keep-alive\n\n"
                time.sleep(0.5)


class FileRenderer(BaseRenderer):
    """Lets DRF accept an export's own media type (`Accept: application/pdf`); the view
    builds the file itself, and an error is answered in JSON (ExportView)."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class PdfRenderer(FileRenderer):
    media_type = "application/pdf"
    format = "pdf"


class MarkdownRenderer(FileRenderer):
    media_type = "text/markdown"
    format = "md"


class ExportView(TenantAPIView):
    """A file download. JSON comes first so that `*/*` (and a browser's Accept) and every
    error get the one JSON error shape; the file's own media type is accepted too."""

    file_renderer: type[FileRenderer]

    def get_renderers(self):
        return [JSONRenderer(), self.file_renderer()]

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response):  # an error: one JSON shape, whatever was accepted
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


class PanelExportMarkdownView(ExportView):
    file_renderer = MarkdownRenderer

    def get(self, request, panel_id):
        panel = panel_detail(user=request.user, panel_id=panel_id)
        response = HttpResponse(report_markdown(panel), content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="panel-{panel.pk}.md"'
        return response


class PanelExportPdfView(ExportView):
    file_renderer = PdfRenderer

    def get(self, request, panel_id):
        panel = panel_detail(user=request.user, panel_id=panel_id)
        response = HttpResponse(report_pdf(panel), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="panel-{panel.pk}.pdf"'
        return response
