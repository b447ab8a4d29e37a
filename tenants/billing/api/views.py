"""The usage API: this period against limits and budgets, and the monthly statements.
Tenant admins see the whole tenant; a member sees their own usage and no statements."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from config.api.params import query_data
from config.api.schema import errors
from config.errors import Forbidden
from tenants.api.base import TENANT_ERRORS, TenantAPIView
from tenants.api.downloads import CsvRenderer, FileDownloadView, PdfRenderer
from tenants.billing.api.serializers import (
    StatementListSerializer,
    UsageReportSerializer,
)
from tenants.billing.statements import (
    month_of,
    month_parse,
    statement_csv,
    statement_get,
    statement_pdf,
    statements_list,
    usage_month,
)
from tenants.roles import is_tenant_admin

# Views with a second renderer would get DRF's `?format=` in the schema; the media type is
# chosen with Accept, so the schema leaves it out.
NO_FORMAT_PARAMETER = OpenApiParameter("format", exclude=True)
MONTH_PATTERN = r"^[1-9]\d{3}-(0[1-9]|1[0-2])$"
MONTH_PARAMETER = OpenApiParameter("month", str, OpenApiParameter.PATH, pattern=MONTH_PATTERN,
                                   description="The month, YYYY-MM.")


def statements_allowed(request) -> None:
    if not is_tenant_admin(request.user):
        raise Forbidden("Statements are for this workspace's admins; your own usage is at /api/v1/usage/.")


class UsageView(TenantAPIView):
    class FilterSerializer(serializers.Serializer):
        month = serializers.RegexField(MONTH_PATTERN, required=False,
                                       help_text="YYYY-MM; this month when left out.")

    @extend_schema(operation_id="usage_get",
                   summary="Usage this month against the plan's limits and budgets, by day, model and panel type",
                   description="Tenant admins get the whole tenant (and its top users); a member gets their "
                               "own usage. Budgets and plan limits are the tenant's.",
                   parameters=[FilterSerializer], responses={200: UsageReportSerializer, **errors(*TENANT_ERRORS)})
    def get(self, request):
        filters = self.FilterSerializer(data=query_data(request))
        filters.is_valid(raise_exception=True)
        month = month_parse(filters.validated_data["month"]) if "month" in filters.validated_data else month_of()
        admin = is_tenant_admin(request.user)
        report = usage_month(tenant=self.tenant, month=month, user_id=None if admin else request.user.pk,
                             with_users=admin)
        return Response(UsageReportSerializer(report).data)


class StatementListView(TenantAPIView):
    @extend_schema(operation_id="usage_statements_list",
                   summary="Monthly statements, newest first: closed months and the open current month",
                   responses={200: StatementListSerializer, **errors(*TENANT_ERRORS)})
    def get(self, request):
        statements_allowed(request)
        return Response(StatementListSerializer({"results": statements_list(tenant=self.tenant)}).data)


class StatementFileView(FileDownloadView):
    def statement(self, request, month: str) -> dict:
        statements_allowed(request)
        return statement_get(tenant=self.tenant, month=month_parse(month))


class StatementCsvView(StatementFileView):
    file_renderer = CsvRenderer

    @extend_schema(operation_id="usage_statement_csv", summary="A month's statement as CSV",
                   parameters=[MONTH_PARAMETER, NO_FORMAT_PARAMETER], responses={
        (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, "The statement, as an attachment "
                                                             "`statement-<tenant>-<YYYY-MM>.csv`."),
        **errors(*TENANT_ERRORS, 406, media_type="application/json"),
    })
    def get(self, request, month):
        data = self.statement(request, month)
        response = HttpResponse(statement_csv(data), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="statement-{data["tenant"]}-{data["month"]}.csv"'
        return response


class StatementPdfView(StatementFileView):
    file_renderer = PdfRenderer

    @extend_schema(operation_id="usage_statement_pdf", summary="A month's statement as a PDF",
                   parameters=[MONTH_PARAMETER, NO_FORMAT_PARAMETER], responses={
        (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, "The statement, as an attachment "
                                                                       "`statement-<tenant>-<YYYY-MM>.pdf`."),
        **errors(*TENANT_ERRORS, 406, media_type="application/json"),
    })
    def get(self, request, month):
        data = self.statement(request, month)
        response = HttpResponse(statement_pdf(data, tenant_name=self.tenant.name), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="statement-{data["tenant"]}-{data["month"]}.pdf"'
        return response
