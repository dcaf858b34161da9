import tempfile

from django.contrib.auth.decorators import permission_required
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from core.htmx import HtmxHttpRequest, is_fragment_request, render_page
from exports.forms import ExportForm
from exports.writers import (
    CSV_CONTENT_TYPE,
    XLSX_CONTENT_TYPE,
    Export,
    ExportFormat,
    Scope,
    csv_chunks,
    export_filename,
    recording_link_template,
)


@require_GET
@permission_required("calls.export_calls", raise_exception=True)
@vary_on_headers("HX-Request")
def export(request: HtmxHttpRequest) -> HttpResponse:
    """The export form; its row count is re-rendered (partial "row-count") as filters change."""
    form = ExportForm(request.GET or None)
    if not form.is_bound:
        count = Export(Scope.CALLS).count()
    elif form.is_valid():
        count = Export(form.cleaned_data["scope"], form.filters()).count()
    else:
        count = None
    context = {"form": form, "count": count, "fragment": is_fragment_request(request)}
    return render_page(request, "exports/export.html", context, "row-count")


@require_GET
@permission_required("calls.export_calls", raise_exception=True)
def download(request: HttpRequest) -> HttpResponse:
    """The file: CSV streamed as it is read from the database, XLSX written to a temporary file
    (never in memory) then streamed; the temporary file is gone once the response is closed."""
    form = ExportForm(request.GET)
    if not form.is_valid():
        return render(request, "exports/export.html", {"form": form, "count": None}, status=400)
    file_format, scope = form.cleaned_data["format"], form.cleaned_data["scope"]
    export = Export(scope, form.filters(), recording_link_template(request.build_absolute_uri))
    campaign = form.cleaned_data["campaign"]

    if file_format == ExportFormat.XLSX:
        from exports.xlsx import write_xlsx  # xlsxwriter only when a workbook is asked for

        # An anonymous temporary file: already unlinked, the OS reclaims it when FileResponse
        # closes it, whether the download completes or the client goes away.
        file = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes it
        try:
            write_xlsx(export, file)
        except BaseException:
            file.close()
            raise
        file.seek(0)
        response = FileResponse(
            file,
            as_attachment=True,
            filename=export_filename(campaign, scope, "xlsx"),
            content_type=XLSX_CONTENT_TYPE,
        )
    else:
        delimiter = ";" if file_format == ExportFormat.CSV_SEMICOLON else ","
        response = StreamingHttpResponse(
            csv_chunks(export, delimiter), content_type=CSV_CONTENT_TYPE
        )
        response["Content-Disposition"] = content_disposition_header(
            True, export_filename(campaign, scope, "csv")
        )
    patch_cache_control(response, private=True, no_store=True)
    return response
