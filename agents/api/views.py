from rest_framework import serializers
from rest_framework.response import Response

from agents.api.serializers import AgentDetailSerializer, AgentSerializer
from agents.domains import DOMAINS
from agents.selectors import agent_get, agent_list
from agents.tenant.selectors import preferences_get
from agents.tenant.services import preferences_set
from config.api.pagination import PageNumberPagination
from tenants.api.base import TenantAPIView
from config.errors import Forbidden, NotFound


class AgentListView(TenantAPIView):
    """The catalog, filtered by `domain`, `tier`, `q`; paginated (`page`, `page_size` <= 200)."""

    class FilterSerializer(serializers.Serializer):
        domain = serializers.ChoiceField(choices=list(DOMAINS), required=False)
        tier = serializers.IntegerField(min_value=1, max_value=3, required=False)
        q = serializers.CharField(max_length=200, required=False)

    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        agents = agent_list(domain=data.get("domain"), tier=data.get("tier"), query=data.get("q"))
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(agents, request, view=self)
        return paginator.get_paginated_response(AgentSerializer(page, many=True).data)


class AgentDetailView(TenantAPIView):
    def get(self, request, slug):
        agent = agent_get(slug=slug)
        if agent is None:
            raise NotFound(f"There is no agent {slug!r} in the catalog.")
        return Response(AgentDetailSerializer(agent).data)


class AgentPreferencesView(TenantAPIView):
    """GET the tenant's expert preferences; PUT replaces them (tenant admins only)."""

    class InputSerializer(serializers.Serializer):
        preferred = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), default=dict)
        disabled = serializers.ListField(child=serializers.CharField(), default=list)

    def get(self, request):
        preferences = preferences_get()
        return Response({"preferred": preferences.preferred, "disabled": preferences.disabled})

    def put(self, request):
        if not request.user.is_staff:
            raise Forbidden("Only a tenant admin can change the organisation's expert preferences.")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        preferences = preferences_set(**data.validated_data)
        return Response({"preferred": preferences.preferred, "disabled": preferences.disabled})
