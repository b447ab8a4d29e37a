from django.contrib.auth import authenticate
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants.configuration import mask_secret
from tenants.api.base import TenantActive, TenantAPIView
from config.errors import DomainError
from tenants.configuration import TenantConfiguration
from tenants.throttling import signin_check, signin_failure_record, signin_success_record


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status_code = 400


class TokenObtainView(APIView):
    """POST username + password -> {"token": ...}; the token exists only in this tenant.
    Failed attempts count against the same per-user and per-IP limits as the sign-in page."""

    authentication_classes = []
    permission_classes = [TenantActive]

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=256, trim_whitespace=False)

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
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class TenantDetailView(TenantAPIView):
    """The current tenant: name, tier, status, features, limits, branding."""

    def get(self, request):
        tenant = request.tenant
        configuration: TenantConfiguration = tenant.configuration
        body = {
            "id": tenant.schema_name,
            "name": tenant.name,
            "tier": tenant.tier,
            "status": tenant.status,
            **configuration.as_dict(),
        }
        body["llm"]["api_key"] = mask_secret(tenant.llm_api_key)
        return Response(body)


