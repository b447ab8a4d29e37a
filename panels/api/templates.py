"""Saved panel templates on the API (`panel-templates/`): everyone lists the shared
templates and their own and may save templates; the owner or a tenant admin replaces and
deletes one; favourites are per user. Starting a panel from one is `POST panels/` with
`template` (panels/api/views.py)."""

from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response

from config.api.fields import TextField
from config.api.pagination import PageNumberPagination
from config.api.schema import errors
from panels.models import PanelTemplate
from panels.services import QUERY_MAX
from panels.template_selectors import (
    template_can_edit,
    template_experts_unavailable,
    template_get,
    template_list,
    template_placeholders,
)
from panels.template_services import (
    DESCRIPTION_MAX,
    DOCUMENTS_MAX,
    EXPERTS_MAX,
    NAME_MAX,
    template_create,
    template_delete,
    template_favourite_set,
    template_replace,
)
from panels.types import REGISTRY
from tenants.api.base import TENANT_ERRORS, TenantAPIView


class UnavailableExpertSerializer(serializers.Serializer):
    slug = serializers.CharField()
    reason = serializers.ChoiceField(choices=["retired", "disabled", "deleted", "not_in_plan"])


@extend_schema_serializer(component_name="PanelTemplate")
class PanelTemplateSerializer(serializers.ModelSerializer):
    """A saved panel configuration, as the requesting user sees it."""

    panel_type = serializers.ChoiceField(choices=list(REGISTRY))
    experts = serializers.ListField(child=serializers.CharField(), help_text="Expert slugs; empty: ranking chooses.")
    max_rounds = serializers.IntegerField(allow_null=True, help_text="Null: the panel type's default.")
    documents = serializers.ListField(child=serializers.IntegerField(), help_text="Document ids to ground on.")
    placeholders = serializers.SerializerMethodField(help_text="The `{names}` of the question template, to fill "
                                                               "with `values` when starting a panel.")
    owner = serializers.CharField(source="owner.username")
    is_favourite = serializers.SerializerMethodField()
    can_edit = serializers.SerializerMethodField(help_text="You saved it, or you are a tenant admin.")
    unavailable_experts = serializers.SerializerMethodField(
        help_text="Experts that can no longer be seated (retired, disabled, deleted); starting a panel from the "
                  "template without your own `experts` is refused with replacements.")

    class Meta:
        model = PanelTemplate
        fields = ["id", "name", "description", "panel_type", "experts", "max_rounds", "documents",
                  "question_template", "placeholders", "shared", "owner", "is_favourite", "can_edit",
                  "unavailable_experts", "created_at", "updated_at"]
        read_only_fields = fields

    def get_placeholders(self, template) -> list[str]:
        return template_placeholders(template.question_template)

    def get_is_favourite(self, template) -> bool:
        return bool(getattr(template, "is_favourite", False))

    def get_can_edit(self, template) -> bool:
        return template_can_edit(user=self.context["request"].user, template=template)

    @extend_schema_field(UnavailableExpertSerializer(many=True))
    def get_unavailable_experts(self, template) -> list[dict]:
        return [{"slug": e.slug, "reason": e.reason} for e in template_experts_unavailable(experts=template.experts)]


@extend_schema_serializer(component_name="PanelTemplateInput")
class PanelTemplateInputSerializer(serializers.Serializer):
    """A template's fields; PUT replaces them all (what is left out takes its default)."""

    name = TextField(min_length=1, max_length=NAME_MAX)
    description = TextField(max_length=DESCRIPTION_MAX, required=False, allow_blank=True, default="")
    panel_type = serializers.ChoiceField(choices=list(REGISTRY), help_text="A type your plan enables.")
    experts = serializers.ListField(child=serializers.SlugField(), required=False, max_length=EXPERTS_MAX, default=list,
                                    help_text="Expert slugs (catalog, or your private experts); empty: ranking "
                                              "chooses when a panel starts.")
    max_rounds = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=10, default=None,
                                          help_text="Within the panel type's maximum; null: the type's default.")
    documents = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False,
                                      max_length=DOCUMENTS_MAX, default=list, help_text="Your documents' ids.")
    question_template = TextField(
        max_length=QUERY_MAX, required=False, allow_blank=True, default="",
        help_text="The question, optionally with `{placeholders}` (letters, digits, underscores) filled when a "
                  "panel starts; `{{` and `}}` are literal braces.")
    shared = serializers.BooleanField(required=False, default=False,
                                      help_text="true: the whole organisation sees it; false: only you.")


def _template_response(request, template, code=status.HTTP_200_OK) -> Response:
    return Response(PanelTemplateSerializer(template, context={"request": request}).data, status=code)


class PanelTemplateListView(TenantAPIView):
    pagination_class = PageNumberPagination

    @extend_schema(operation_id="panel_templates_list",
                   summary="The shared templates and your own, your favourites first",
                   responses={200: PanelTemplateSerializer(many=True), **errors(*TENANT_ERRORS)})
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(template_list(user=request.user), request, view=self)
        return paginator.get_paginated_response(
            PanelTemplateSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(operation_id="panel_templates_create", summary="Save a panel configuration as a template",
                   request=PanelTemplateInputSerializer,
                   responses={201: PanelTemplateSerializer, **errors(*TENANT_ERRORS, 415)})
    def post(self, request):
        data = PanelTemplateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        template = template_create(user=request.user, data=data.validated_data)
        return _template_response(request, template_get(user=request.user, template_id=template.pk),
                                  status.HTTP_201_CREATED)


class PanelTemplateDetailView(TenantAPIView):
    @extend_schema(operation_id="panel_templates_get", summary="One template",
                   responses={200: PanelTemplateSerializer, **errors(*TENANT_ERRORS)})
    def get(self, request, template_id):
        return _template_response(request, template_get(user=request.user, template_id=template_id))

    @extend_schema(operation_id="panel_templates_replace",
                   summary="Replace a template (the one who saved it, or a tenant admin)",
                   request=PanelTemplateInputSerializer,
                   responses={200: PanelTemplateSerializer, **errors(*TENANT_ERRORS, 415)})
    def put(self, request, template_id):
        template = template_get(user=request.user, template_id=template_id)
        data = PanelTemplateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        template_replace(user=request.user, template=template, data=data.validated_data)
        return _template_response(request, template_get(user=request.user, template_id=template_id))

    @extend_schema(operation_id="panel_templates_delete",
                   summary="Delete a template (the one who saved it, or a tenant admin)",
                   responses={204: None, **errors(*TENANT_ERRORS)})
    def delete(self, request, template_id):
        template_delete(user=request.user, template=template_get(user=request.user, template_id=template_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PanelTemplateFavouriteView(TenantAPIView):
    @extend_schema(operation_id="panel_templates_favourite", summary="Mark a template as one of your favourites",
                   request=None, responses={200: PanelTemplateSerializer, **errors(*TENANT_ERRORS)})
    def post(self, request, template_id):
        template = template_favourite_set(user=request.user, favourite=True,
                                          template=template_get(user=request.user, template_id=template_id))
        return _template_response(request, template)

    @extend_schema(operation_id="panel_templates_unfavourite", summary="No longer one of your favourites",
                   responses={200: PanelTemplateSerializer, **errors(*TENANT_ERRORS)})
    def delete(self, request, template_id):
        template = template_favourite_set(user=request.user, favourite=False,
                                          template=template_get(user=request.user, template_id=template_id))
        return _template_response(request, template)
