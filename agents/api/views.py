from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from agents.api.serializers import AgentDetailSerializer, AgentPreferencesSerializer, AgentSerializer
from agents.domains import DOMAINS
from agents.selectors import agent_get, agent_list
from agents.tenant.selectors import preferences_get
from agents.tenant.services import preferences_set
from config.api.pagination import PageNumberPagination
from config.api.params import query_data
from config.api.schema import errors
from config.errors import Forbidden, NotFound
from tenants.api.base import TENANT_ERRORS, TenantAPIView


class AgentListView(TenantAPIView):
    """The catalog, filtered by `domain`, `tier`, `q`; paginated (`page`, `page_size` <= 200)."""

    pagination_class = PageNumberPagination

    class FilterSerializer(serializers.Serializer):
        domain = serializers.ChoiceField(choices=list(DOMAINS), required=False)
        tier = serializers.IntegerField(min_value=1, max_value=3, required=False)
        q = serializers.CharField(max_length=200, required=False, help_text="Words in the name, title or profile.")

    @extend_schema(operation_id="agents_list", summary="The expert catalog", parameters=[FilterSerializer],
                   responses={200: AgentSerializer(many=True), **errors(*TENANT_ERRORS)})
    def get(self, request):
        filters = self.FilterSerializer(data=query_data(request))
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        agents = agent_list(domain=data.get("domain"), tier=data.get("tier"), query=data.get("q"))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(agents, request, view=self)
        return paginator.get_paginated_response(AgentSerializer(page, many=True).data)


class AgentDetailView(TenantAPIView):
    @extend_schema(operation_id="agents_get", summary="One agent, with its system prompt",
                   responses={200: AgentDetailSerializer, **errors(*TENANT_ERRORS)})
    def get(self, request, slug):
        agent = agent_get(slug=slug)
        if agent is None:
            raise NotFound(f"There is no agent {slug!r} in the catalog.")
        return Response(AgentDetailSerializer(agent).data)


class AgentPreferencesView(TenantAPIView):
    """GET the tenant's expert preferences; PUT replaces them (tenant admins only)."""

    @extend_schema(operation_id="agent_preferences_get", summary="The organisation's expert preferences",
                   responses={200: AgentPreferencesSerializer, **errors(*TENANT_ERRORS)})
    def get(self, request):
        return Response(AgentPreferencesSerializer(preferences_get()).data)

    @extend_schema(operation_id="agent_preferences_set", summary="Replace the expert preferences (tenant admins)",
                   request=AgentPreferencesSerializer,
                   responses={200: AgentPreferencesSerializer, **errors(*TENANT_ERRORS, 415)})
    def put(self, request):
        if not request.user.is_staff:
            raise Forbidden("Only a tenant admin can change the organisation's expert preferences.")
        data = AgentPreferencesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(AgentPreferencesSerializer(preferences_set(**data.validated_data)).data)
