from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from agents.api.serializers import (
    AgentDetailSerializer,
    AgentPreferencesSerializer,
    AgentSerializer,
    CustomAgentInputSerializer,
    CustomAgentReplaceSerializer,
    CustomAgentSerializer,
)
from agents.domains import DOMAINS
from agents.selectors import agent_get, agent_list
from agents.tenant.selectors import custom_agent_get, custom_agent_list, preferences_get
from agents.tenant.services import (
    custom_agent_create,
    custom_agent_delete,
    custom_agent_update,
    custom_agents_allowed,
    preferences_set,
)
from config.api.pagination import PageNumberPagination
from config.api.params import query_data
from config.api.schema import errors
from config.errors import NotFound
from tenants.api.base import TENANT_ERRORS, TenantAPIView
from tenants.roles import require_admin


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
        if request.tenant.configuration.features.custom_agents:  # the tenant's own experts first
            mine = custom_agent_list(domain=data.get("domain"), tier=data.get("tier"), query=data.get("q"))
            agents = mine + list(agents)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(agents, request, view=self)
        return paginator.get_paginated_response(AgentSerializer(page, many=True).data)


class AgentDetailView(TenantAPIView):
    @extend_schema(operation_id="agents_get", summary="One agent, with its system prompt",
                   responses={200: AgentDetailSerializer, **errors(*TENANT_ERRORS)})
    def get(self, request, slug):
        agent = agent_get(slug=slug)
        if agent is None and request.tenant.configuration.features.custom_agents:
            agent = custom_agent_get(slug=slug)
        if agent is None:
            raise NotFound(f"There is no agent {slug!r} in the catalog.")
        return Response(AgentDetailSerializer(agent).data)


class CustomAgentListView(TenantAPIView):
    """The organisation's private experts (plans with `custom_agents`): everyone reads, tenant
    admins create. Paginated (`page`, `page_size` <= 200)."""

    pagination_class = PageNumberPagination

    @extend_schema(operation_id="custom_agents_list", summary="Your organisation's private experts",
                   responses={200: CustomAgentSerializer(many=True), **errors(*TENANT_ERRORS)})
    def get(self, request):
        custom_agents_allowed(request.tenant)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(custom_agent_list(), request, view=self)
        return paginator.get_paginated_response(CustomAgentSerializer(page, many=True).data)

    @extend_schema(operation_id="custom_agents_create", summary="Create a private expert (tenant admins)",
                   request=CustomAgentInputSerializer,
                   responses={201: CustomAgentSerializer, **errors(*TENANT_ERRORS, 400, 415, 429)})
    def post(self, request):
        agent = custom_agent_create(user=request.user, data=request.data)
        return Response(CustomAgentSerializer(agent).data, status=201)


class CustomAgentDetailView(TenantAPIView):
    @extend_schema(operation_id="custom_agents_get", summary="One private expert",
                   responses={200: CustomAgentSerializer, **errors(*TENANT_ERRORS, 404)})
    def get(self, request, slug):
        return Response(CustomAgentSerializer(self._agent(request, slug)).data)

    @extend_schema(operation_id="custom_agents_replace", summary="Replace a private expert's profile (tenant admins)",
                   request=CustomAgentReplaceSerializer,
                   responses={200: CustomAgentSerializer, **errors(*TENANT_ERRORS, 400, 404, 415)})
    def put(self, request, slug):
        agent = custom_agent_update(user=request.user, agent=self._agent(request, slug), data=request.data)
        return Response(CustomAgentSerializer(agent).data)

    @extend_schema(operation_id="custom_agents_delete", summary="Delete a private expert (tenant admins)",
                   responses={204: None, **errors(*TENANT_ERRORS, 404)})
    def delete(self, request, slug):
        custom_agent_delete(user=request.user, agent=self._agent(request, slug))
        return Response(status=204)

    @staticmethod
    def _agent(request, slug):
        custom_agents_allowed(request.tenant)
        agent = custom_agent_get(slug=slug)
        if agent is None:
            raise NotFound(f"You have no private expert {slug!r}.")
        return agent


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
        require_admin(request.user, "change the organisation's expert preferences")
        data = AgentPreferencesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(AgentPreferencesSerializer(preferences_set(**data.validated_data)).data)
