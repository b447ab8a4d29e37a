from rest_framework import pagination, serializers

from config.api.params import query_data


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=` and `?page_size=` (a larger size than 200 is capped at 200); responses carry
    `count`, `next`, `previous` and `results`. A view that lists sets it as its
    `pagination_class`, which also puts the paginated shape in the OpenAPI schema."""

    page_size_query_param = "page_size"
    max_page_size = 200

    class QuerySerializer(serializers.Serializer):
        page = serializers.IntegerField(min_value=1, required=False, help_text="The page number, from 1.")
        page_size = serializers.IntegerField(
            min_value=1, required=False, help_text="Results per page (default 50); more than 200 is capped at 200.")

    def paginate_queryset(self, queryset, request, view=None):
        # Refuse what is not a page (400) rather than fall back to a default without a word.
        self.QuerySerializer(data=query_data(request)).is_valid(raise_exception=True)
        return super().paginate_queryset(queryset, request, view=view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            field = self.QuerySerializer().fields[parameter["name"]]
            parameter["schema"]["minimum"] = field.min_value
            parameter["description"] = field.help_text
        return parameters
