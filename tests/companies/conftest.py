"""Helpers for the import tests: run a file through the same pipeline as the pages."""

from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parent / "samples"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


@pytest.fixture
def run_import(supervisor):
    """Preview then apply bytes as an ImportBatch would: returns (preview, applied, batch)."""
    from django.core.files.base import ContentFile

    from companies import importing
    from companies.models import ImportBatch, ImportMode

    def run(data: bytes, mode=ImportMode.NEW, campaign=None, name="Campagne importée", **read):
        preview = importing.analyse(data, mode=mode, campaign=campaign, **read)
        batch = ImportBatch(
            uploaded_by=supervisor,
            mode=mode,
            campaign=campaign,
            campaign_name=name if mode == ImportMode.NEW else "",
            original_name="liste.csv",
        )
        preview.store_on(batch)
        batch.file.save("liste.csv", ContentFile(data), save=False)
        batch.save()
        applied = importing.apply_batch(batch)
        batch.refresh_from_db()
        return preview, applied, batch

    return run
