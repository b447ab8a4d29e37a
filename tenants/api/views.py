from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response

from config.api.schema import errors
from config.errors import DomainError
from tenants.api.base import TENANT_ERRORS, TenantActive, TenantAPIView
from tenants.api.serializers import TenantSerializer
from tenants.services import token_obtain
from tenants.throttling import signin_check, signin_failure_record, signin_success_record


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status_code = 400


class TokenObtainView(TenantAPIView):
    """POST username + password -> {"token": ...}; the token exists only in this tenant.
    Failed attempts count against the same per-user and per-IP limits as the sign-in page."""

    authentication_classes = []
    permission_classes = [TenantActive]

    @extend_schema_serializer(component_name="Token")
    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=256, trim_whitespace=False)

    @extend_schema_serializer(component_name="Token")
    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField(source="key", help_text="Send it as `Authorization: Token <token>`.")

    @extend_schema(
        operation_id="auth_token", summary="Get an API token (username and password of this tenant)",
        request=InputSerializer, responses={200: OutputSerializer, **errors(400, 403, 404, 415, 429)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        username, ip = data.validated_data["username"], request.META.get("REMOTE_ADDR", "")
        signin_check(username=username, ip=ip)
        user = authenticate(request, **data.validated_data)
        if user is None or not user.is_active:
            signin_failure_record(username=username, ip=ip)
            raise InvalidCredentials("Unable to sign in with that username and password on this tenant.")
        signin_success_record(username=username)
        return Response(self.OutputSerializer(token_obtain(user=user)).data)


class TenantDetailView(TenantAPIView):
    """The current tenant: name, tier, status, features, limits, branding."""

    @extend_schema(operation_id="tenant_get", summary="The current tenant and its configuration",
                   responses={200: TenantSerializer, **errors(*TENANT_ERRORS)})
    def get(self, request):
        return Response(TenantSerializer(request.tenant).data)
