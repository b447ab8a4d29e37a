from django.contrib import admin, messages

from config.admin_sites import tenant_site
from rag.models import Document
from rag.services import document_delete


@admin.register(Document, site=tenant_site)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ("title", "status", "chunk_count", "page_count", "size", "tags", "uploaded_by", "created_at")
    list_filter = ("status",)
    search_fields = ("title", "original_name")
    readonly_fields = ("original_name", "mime_type", "size", "checksum", "status", "failure_reason", "page_count",
                       "chunk_count", "uploaded_by", "created_at", "processed_at", "file")
    fields = ("title", "tags") + readonly_fields
    actions = ["delete_with_chunks"]

    def has_add_permission(self, request):
        return False  # uploads go through the API / documents page, which check limits and queue ingestion

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Delete selected documents and their chunks")
    def delete_with_chunks(self, request, queryset):
        count = 0
        for document in queryset:
            document_delete(document_id=document.id, user=request.user)
            count += 1
        messages.success(request, f"Deleted {count} document(s).")

    def delete_model(self, request, obj):
        document_delete(document_id=obj.id, user=request.user)
