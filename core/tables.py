"""Sorting and paging of the project's tables (django-tables2) from the query string."""

from django.http import HttpRequest
from django_tables2 import RequestConfig, Table


def paginate(request: HttpRequest, table: Table, per_page: int) -> None:
    """Sort by the request's `sort` and show its `page` of `per_page` rows.

    Whatever the query string says, the answer is a page: a page that is not a number shows
    the first one, a page past the end the last one. The page size is the view's own: a
    `per_page` in the URL is ignored (it would let anyone load a whole list at once).
    """
    RequestConfig(request, paginate=False).configure(table)
    table.paginate(per_page=per_page)
    table.page = table.paginator.get_page(request.GET.get(table.prefixed_page_field))
