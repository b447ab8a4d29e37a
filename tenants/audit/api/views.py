"""The audit trail of the current tenant, for its tenant admins."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from config.api.pagination import PageNumberPagination
from config.api.params import query_data
from config.api.schema import errors
from tenants.api.base import TENANT_ERRORS, TenantAPIView
from tenants.audit.api.serializers import AuditEventSerializer
from tenants.audit.models import AuditEvent
from tenants.audit.selectors import audit_event_list
from tenants.roles import require_admin


class AuditEventListView(TenantAPIView):
    pagination_class = PageNumberPagination

    class FilterSerializer(serializers.Serializer):
        action = serializers.ChoiceField(choices=AuditEvent.Action.choices, required=False,
                                         help_text="Only events of this action.")

    @extend_schema(operation_id="audit_list", summary="This tenant's audit trail, newest first (tenant admins)",
                   description="Who changed the tenant's settings, branding, users and roles, deleted documents, "
                               "cancelled panels, created or revoked API tokens, and what the platform changed "
                               "(the tenant's creation, status and plan). Paginated.",
                   parameters=[FilterSerializer],
                   responses={200: AuditEventSerializer(many=True), **errors(*TENANT_ERRORS)})
    def get(self, request):
        require_admin(request.user, "read the audit trail")
        filters = self.FilterSerializer(data=query_data(request))
        filters.is_valid(raise_exception=True)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(audit_event_list(tenant=self.tenant, **filters.validated_data), request,
                                           view=self)
        return paginator.get_paginated_response(AuditEventSerializer(page, many=True).data)
