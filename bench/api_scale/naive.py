"""The naive way to write ``GET analyses/`` — for the comparison in ``run.py`` only.

Same response shape as the platform's ``/api/v2/analyses/`` (``Paged[AnalysisListItem]``), but
written the way a first version usually is: ORM model objects, a plain ``COUNT(*)`` of the
visible rows, and the run, its sample and study, the analysis's sample and its biome read through
foreign-key attributes item by item (one query each). Mounted only by ``bench_urls.py``.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI

from emg_django.analyses.models import Analysis
from emg_django.api.pagination import Paged
from emg_django.api.schemas.analyses import AnalysisListItem

naive_api = NinjaAPI(title="naive (bench only)", urls_namespace="bench_naive", docs_url=None)


def _biome(biome) -> dict | None:
    return None if biome is None else {"biome_name": biome.biome_name, "lineage": biome.lineage}


@naive_api.get("/analyses/", response=Paged[AnalysisListItem])
def naive_analyses(request: HttpRequest, page: int = 1, page_size: int = 25) -> dict:
    queryset = Analysis.objects.filter(is_private=False, is_suppressed=False).order_by("-id")
    count = queryset.count()
    start = (page - 1) * page_size
    items = []
    for analysis in queryset[start : start + page_size]:
        run = analysis.run
        sample = analysis.sample
        assembly = analysis.assembly
        items.append(
            {
                "accession": analysis.accession,
                "study_accession": analysis.study.accession,
                "experiment_type": analysis.experiment_type,
                "pipeline_version": analysis.pipeline_version,
                "run": None
                if run is None
                else {
                    "accession": run.accession,
                    "experiment_type": run.experiment_type,
                    "instrument_model": run.instrument_model,
                    "instrument_platform": run.instrument_platform,
                    "sample_accession": run.sample.accession,
                    "study_accession": run.study.accession,
                },
                "sample": None
                if sample is None
                else {
                    "accession": sample.accession,
                    "ena_accessions": sample.ena_accessions,
                    "sample_title": sample.sample_title,
                    "biome": _biome(sample.biome),
                    "updated_at": sample.updated_at,
                },
                "assembly": None
                if assembly is None
                else {
                    "accession": assembly.accession,
                    "updated_at": assembly.updated_at,
                },
            }
        )
    return {"count": count, "items": items}
