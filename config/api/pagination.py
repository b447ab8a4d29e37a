from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=` and `?page_size=` (up to 200); responses carry `count` and `results`."""

    page_size_query_param = "page_size"
    max_page_size = 200
