"""Sorting and paging of the project's tables (django-tables2) from the query string."""

import hashlib
from urllib.parse import urlencode

from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.utils.functional import cached_property
from django_tables2 import RequestConfig, Table

# How long a table's row count is kept (CountKeptPaginator).
COUNT_SECONDS = 30


def paginate(request: HttpRequest, table: Table, per_page: int, keep_count: str = "") -> None:
    """Sort by the request's `sort` and show its `page` of `per_page` rows.

    Whatever the query string says, the answer is a page: a page that is not a number shows
    the first one, a page past the end the last one. The page size is the view's own: a
    `per_page` in the URL is ignored (it would let anyone load a whole list at once).

    `keep_count` (a name for the table): the pager's row count is kept COUNT_SECONDS for the
    same filters (CountKeptPaginator) instead of being counted on every page.
    """
    RequestConfig(request, paginate=False).configure(table)
    if keep_count:
        filters = sorted(
            (name, value)
            for name, values in request.GET.lists()
            if name not in (table.prefixed_page_field, table.prefixed_order_by_field)
            for value in values
        )
        digest = hashlib.sha256(urlencode(filters).encode()).hexdigest()[:32]
        table.paginate(
            paginator_class=CountKeptPaginator,
            per_page=per_page,
            count_key=f"naumur:count:{keep_count}:{digest}",
        )
    else:
        table.paginate(per_page=per_page)
    table.page = table.paginator.get_page(request.GET.get(table.prefixed_page_field))


class CountKeptPaginator(Paginator):
    """A paginator whose row count is kept in the cache for COUNT_SECONDS under `count_key`.

    The call list's pager counted its whole queue on every page an operator opened (51 ms of
    PostgreSQL at a million companies, docs/PERFORMANCE.md); the count moves only when companies
    are imported or archived, and a pager a few seconds behind says a total a few rows off."""

    def __init__(self, *args, count_key: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.count_key = count_key

    @cached_property
    def count(self) -> int:
        return cache.get_or_set(self.count_key, lambda: Paginator.count.func(self), COUNT_SECONDS)
