import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db import DatabaseError, connection
from django.http import HttpResponse, StreamingHttpResponse
from django_tenants.utils import schema_context
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from agents.domains import DOMAINS
from agents.ranking import DEFAULT_K, MAX_K
from config.api.pagination import PageNumberPagination
from config.api.params import query_data
from config.api.schema import errors
from panels.api.serializers import (
    PANEL_STATUSES,
    AgentRecommendationsSerializer,
    ContributionSerializer,
    PanelEstimateSerializer,
    PanelEventsSerializer,
    PanelSerializer,
    PanelSummarySerializer,
    RatingSerializer,
)
from panels.lifecycle import FINAL
from panels.reports import report_markdown, report_pdf
from panels.selectors import (
    experts_recommend,
    panel_detail,
    panel_events,
    panel_get,
    panel_list,
)
from panels.services import (
    QUERY_MAX,
    QUERY_MIN,
    panel_cancel,
    panel_create,
    panel_human_input,
    panel_preflight,
    panel_rate,
)
from panels.template_selectors import template_get
from panels.template_services import template_apply
from panels.types import REGISTRY
from tenants.api.base import TENANT_ERRORS, TenantAPIView
from tenants.api.downloads import FileDownloadView, MarkdownRenderer, PdfRenderer

SSE_SECONDS = 120
SSE_POLL_SECONDS = 0.5
# Under ASGI every stream of a web process reads through these few threads, each keeping one
# Postgres connection: 200 open streams hold 2 connections per process, not 200.
SSE_READS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sse-reads")
MAX_SEQ = 2**63 - 1  # event ids are bigints
# Views with a second renderer would get DRF's `?format=` in the schema; the media type is
# chosen with Accept, so the schema leaves it out.
NO_FORMAT_PARAMETER = OpenApiParameter("format", exclude=True)


class AgentRecommendView(TenantAPIView):
    """Ranked experts for a question, with scores and why (`agents/recommend/`; it lives with
    panels because a panel type decides the debate roles)."""

    class InputSerializer(serializers.Serializer):
        q = serializers.CharField(min_length=3, max_length=5000, help_text="The question.")
        k = serializers.IntegerField(min_value=1, max_value=MAX_K, default=DEFAULT_K, help_text="How many experts.")
        panel_type = serializers.ChoiceField(choices=list(REGISTRY), required=False,
                                             help_text="Give the debate roles this panel type would.")
        domain = serializers.MultipleChoiceField(choices=list(DOMAINS), required=False,
                                                 help_text="Only these domains (repeat the parameter).")

    @extend_schema(operation_id="agents_recommend", summary="Experts ranked for a question, with why",
                   parameters=[InputSerializer],
                   responses={200: AgentRecommendationsSerializer, **errors(*TENANT_ERRORS, 502, 503)})
    def get(self, request):
        params = self.InputSerializer(data=query_data(request, lists=("domain",)))
        params.is_valid(raise_exception=True)
        data = params.validated_data
        ranked = experts_recommend(question=data["q"], k=data["k"], panel_type=data.get("panel_type"),
                                   domains=sorted(data["domain"]) if data.get("domain") else None)
        return Response(AgentRecommendationsSerializer(
            {"query": data["q"], "panel_type": data.get("panel_type"), "results": ranked}).data)


class PanelListView(TenantAPIView):
    pagination_class = PageNumberPagination

    @extend_schema_serializer(component_name="PanelAsk")
    class InputSerializer(serializers.Serializer):
        query = serializers.CharField(
            min_length=QUERY_MIN, max_length=QUERY_MAX, trim_whitespace=True,
            error_messages={key: f"The question must be {QUERY_MIN} to {QUERY_MAX} characters."
                            for key in ("min_length", "max_length")})
        panel_type = serializers.ChoiceField(choices=list(REGISTRY))
        experts = serializers.ListField(
            child=serializers.SlugField(), required=False, min_length=1, max_length=20,
            help_text="Agent slugs to seat; left out, the best-ranked experts are chosen. "
                      "Each panel type and plan sets how many.")
        max_rounds = serializers.IntegerField(required=False, min_value=1, max_value=10,
                                              help_text="Each panel type sets its own maximum.")
        documents = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False,
                                          max_length=100, help_text="Ids of ready documents to ground the panel on.")

    @extend_schema_serializer(component_name="PanelCreate")
    class CreateSerializer(InputSerializer):
        """The panel, or a saved template (`template`) with what the user changes on top; `query`
        and `panel_type` are required without a template."""

        query = serializers.CharField(
            min_length=QUERY_MIN, max_length=QUERY_MAX, trim_whitespace=True, required=False,
            help_text="Required without `template`; with one, left out, the template's question template is filled "
                      "from `values`.",
            error_messages={key: f"The question must be {QUERY_MIN} to {QUERY_MAX} characters."
                            for key in ("min_length", "max_length")})
        panel_type = serializers.ChoiceField(choices=list(REGISTRY), required=False)  # required without `template`
        template = serializers.IntegerField(
            min_value=1, required=False,
            help_text="A saved panel template's id: its type, experts, rounds and documents, overridden by the other "
                      "fields given. A template whose experts were retired or disabled is refused (409, with "
                      "replacements) unless `experts` is given.")
        values = serializers.DictField(
            child=serializers.CharField(max_length=500), required=False,
            help_text="With `template` and no `query`: the text of each `{placeholder}` of its question template.")

        def validate(self, data):
            if "template" not in data:
                missing = {name: ["This field is required without `template`."]
                           for name in ("query", "panel_type") if name not in data}
                if missing:
                    raise serializers.ValidationError(missing)
                data.pop("values", None)
            return data

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=PANEL_STATUSES, required=False)
        panel_type = serializers.ChoiceField(choices=list(REGISTRY), required=False)

    @extend_schema(operation_id="panels_list", summary="Your panels, newest first", parameters=[FilterSerializer],
                   responses={200: PanelSummarySerializer(many=True), **errors(*TENANT_ERRORS)})
    def get(self, request):
        filters = self.FilterSerializer(data=query_data(request))
        filters.is_valid(raise_exception=True)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(panel_list(user=request.user, **filters.validated_data), request, view=self)
        return paginator.get_paginated_response(PanelSummarySerializer(page, many=True).data)

    @extend_schema(operation_id="panels_create", summary="Ask a panel; it is queued for the worker",
                   request=CreateSerializer, responses={201: PanelSerializer, **errors(*TENANT_ERRORS, 409, 415, 429)})
    def post(self, request):
        panel = panel_create(user=request.user, **panel_arguments(request))
        return Response(PanelSerializer(panel_detail(user=request.user, panel_id=panel.pk)).data,
                        status=status.HTTP_201_CREATED)


def panel_arguments(request) -> dict:
    """The create body checked, with its template (if any) applied: what panel_create takes."""
    data = PanelListView.CreateSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    arguments = dict(data.validated_data)
    template_id = arguments.pop("template", None)
    if template_id is not None:
        arguments = template_apply(template_get(user=request.user, template_id=template_id), arguments)
    return arguments


class PanelEstimateView(TenantAPIView):
    @extend_schema(
        operation_id="panels_estimate",
        summary="What a panel would use (tokens, cost, a range) and whether this month's budget covers it",
        description="The same body as creating a panel, checked the same way; nothing is created. The figure "
                    "comes from the panel type's round plan, scaled by your last completed panels of the type. "
                    "Creating a panel whose expected figure does not fit the remaining budget is refused with "
                    "429 `budget_exceeded`.",
        request=PanelListView.CreateSerializer,
        responses={200: PanelEstimateSerializer, **errors(*TENANT_ERRORS, 409, 415)})
    def post(self, request):
        return Response(PanelEstimateSerializer(panel_preflight(user=request.user, **panel_arguments(request))).data)


class PanelDetailView(TenantAPIView):
    @extend_schema(operation_id="panels_get",
                   summary="A panel: status, members, rounds, consensus, recommendation, usage",
                   responses={200: PanelSerializer, **errors(*TENANT_ERRORS)})
    def get(self, request, panel_id):
        return Response(PanelSerializer(panel_detail(user=request.user, panel_id=panel_id)).data)


class PanelCancelView(TenantAPIView):
    @extend_schema(operation_id="panels_cancel", summary="Cancel a panel that is not final yet", request=None,
                   responses={200: PanelSummarySerializer, **errors(*TENANT_ERRORS, 409)})
    def post(self, request, panel_id):
        panel = panel_cancel(panel=panel_get(user=request.user, panel_id=panel_id), user=request.user)
        return Response(PanelSummarySerializer(panel).data)


class PanelHumanInputView(TenantAPIView):
    @extend_schema_serializer(component_name="HumanInput")
    class InputSerializer(serializers.Serializer):
        expert_name = serializers.CharField(max_length=200, help_text="Who speaks, as the report will name them.")
        text = serializers.CharField(min_length=10, max_length=5000)

    @extend_schema(operation_id="panels_human_input", summary="Add a human expert's input to a hybrid panel",
                   request=InputSerializer, responses={201: ContributionSerializer, **errors(*TENANT_ERRORS, 409, 415)})
    def post(self, request, panel_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contribution = panel_human_input(panel=panel_get(user=request.user, panel_id=panel_id), **data.validated_data)
        return Response(ContributionSerializer(contribution).data, status=status.HTTP_201_CREATED)


class PanelRatingView(TenantAPIView):
    @extend_schema_serializer(component_name="Rating")
    class InputSerializer(serializers.Serializer):
        score = serializers.IntegerField(min_value=1, max_value=5)
        comment = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    @extend_schema(operation_id="panels_rate", summary="Rate a completed panel (once per user)",
                   request=InputSerializer, responses={201: RatingSerializer, **errors(*TENANT_ERRORS, 409, 415)})
    def post(self, request, panel_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rating = panel_rate(panel=panel_get(user=request.user, panel_id=panel_id), user=request.user,
                            **data.validated_data)
        return Response(RatingSerializer(rating).data, status=status.HTTP_201_CREATED)


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
        after = serializers.IntegerField(min_value=0, max_value=MAX_SEQ, default=0,
                                         help_text="Only events after this `seq`.")

    class ResumeSerializer(serializers.Serializer):
        last_event_id = serializers.IntegerField(min_value=0, max_value=MAX_SEQ, label="Last-Event-ID")

    @extend_schema(
        operation_id="panels_events", summary="A panel's progress: JSON to poll, or a Server-Sent Events stream",
        parameters=[InputSerializer, NO_FORMAT_PARAMETER, OpenApiParameter(
            "Last-Event-ID", {"type": "integer", "minimum": 0, "maximum": MAX_SEQ}, OpenApiParameter.HEADER,
            description="Resume a stream after this `seq` (an EventSource sends it when it reconnects)."),
        ],
        responses={
            (200, "application/json"): OpenApiResponse(PanelEventsSerializer, "The events after `after`, to poll."),
            (200, "text/event-stream"): OpenApiResponse(
                OpenApiTypes.STR,
                "With `Accept: text/event-stream`: one message per event (`id:` its seq, `event:` its kind, "
                "`data:` a PanelEvent as JSON), a comment line as keep-alive, and `event: end` once the "
                f"panel is final; the stream closes after {SSE_SECONDS} s."),
            **errors(*TENANT_ERRORS, 406, media_type="application/json"),
        },
    )
    def get(self, request, panel_id):
        panel = panel_get(user=request.user, panel_id=panel_id)
        params = self.InputSerializer(data=query_data(request))
        params.is_valid(raise_exception=True)
        after = params.validated_data["after"]
        if "Last-Event-ID" in request.headers:  # an EventSource sends it only when it has one
            resumed = self.ResumeSerializer(data={"last_event_id": request.headers["Last-Event-ID"]})
            resumed.is_valid(raise_exception=True)
            after = resumed.validated_data["last_event_id"]
        if "text/event-stream" in request.headers.get("Accept", ""):
            response = StreamingHttpResponse(self._stream(request, panel.pk, after), content_type="text/event-stream")
            response["Cache-Control"] = "no-cache"
            response["X-Accel-Buffering"] = "no"
            return response
        events = panel_events(panel=panel, after=after)
        panel.refresh_from_db(fields=["status", "current_round"])
        return Response(PanelEventsSerializer({
            "status": panel.status.lower(), "current_round": panel.current_round, "rounds": panel.max_rounds,
            "events": [_event(e) for e in events], "last_seq": events[-1].id if events else after,
        }).data)

    @classmethod
    def _stream(cls, request, panel_id: int, after: int):
        """The stream in the server's own kind: Django serves an async iterator under WSGI
        (runserver, the tests' live server) or a sync one under ASGI only by first reading
        it to its end, which a stream of 120 s cannot wait for."""
        schema = connection.schema_name  # the stream runs after the request's middleware is done
        if isinstance(request._request, ASGIRequest):
            # The request's connection would stay open (idle) until the stream ends; the
            # stream reads through SSE_READS instead.
            connection.close()
            return cls._stream_async(panel_id, schema, after)
        return cls._stream_sync(panel_id, schema, after)

    @classmethod
    def _stream_sync(cls, panel_id: int, schema: str, after: int):
        deadline = time.monotonic() + SSE_SECONDS
        while time.monotonic() < deadline:
            messages, after, final = cls._read(panel_id, schema, after)
            yield from messages
            if final:
                return
            time.sleep(SSE_POLL_SECONDS)

    @classmethod
    async def _stream_async(cls, panel_id: int, schema: str, after: int):
        """Waits without a thread; each read borrows one of SSE_READS's threads."""
        read = sync_to_async(cls._read, thread_sensitive=False, executor=SSE_READS)
        deadline = time.monotonic() + SSE_SECONDS
        while time.monotonic() < deadline:
            messages, after, final = await read(panel_id, schema, after)
            for message in messages:
                yield message
            if final:
                return
            await asyncio.sleep(SSE_POLL_SECONDS)

    @staticmethod
    def _read(panel_id: int, schema: str, after: int) -> tuple[list[str], int, bool]:
        """One poll: the messages for the events after `after` (then `event: end` if the panel
        is final, else a keep-alive comment), the last event's seq, and whether it is final."""
        from panels.models import Panel

        try:
            with schema_context(schema):
                panel = Panel.objects.get(pk=panel_id)
                events = panel_events(panel=panel, after=after)
        except DatabaseError:
            connection.close()  # e.g. Postgres restarted: the next read opens a new connection
            raise
        messages = [f"id: {event.id}\nevent: {event.kind}\ndata: {json.dumps(_event(event))}\n\n" for event in events]
        final = panel.status in FINAL
        messages.append("event: end\ndata: {}\n\n" if final else ": keep-alive\n\n")
        return messages, events[-1].id if events else after, final


class PanelExportMarkdownView(FileDownloadView):
    file_renderer = MarkdownRenderer

    @extend_schema(operation_id="panels_export_markdown", summary="The panel's report in Markdown",
                   parameters=[NO_FORMAT_PARAMETER], responses={
        (200, "text/markdown"): OpenApiResponse(OpenApiTypes.STR, "The report, as an attachment `panel-<id>.md`."),
        **errors(*TENANT_ERRORS, 406, media_type="application/json"),
    })
    def get(self, request, panel_id):
        panel = panel_detail(user=request.user, panel_id=panel_id)
        response = HttpResponse(report_markdown(panel), content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="panel-{panel.pk}.md"'
        return response


class PanelExportPdfView(FileDownloadView):
    file_renderer = PdfRenderer

    @extend_schema(operation_id="panels_export_pdf", summary="The panel's report as a PDF",
                   parameters=[NO_FORMAT_PARAMETER], responses={
        (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, "The report, as an attachment `panel-<id>.pdf`."),
        **errors(*TENANT_ERRORS, 406, media_type="application/json"),
    })
    def get(self, request, panel_id):
        panel = panel_detail(user=request.user, panel_id=panel_id)
        response = HttpResponse(report_pdf(panel), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="panel-{panel.pk}.pdf"'
        return response
