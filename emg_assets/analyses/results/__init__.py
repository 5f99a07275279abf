"""Result importers: pure functions from one run's result dir to typed results.

A missing or malformed file raises :class:`ResultError`, which the asset turns into a failed
analysis with the error as its reason -- never a crashed step.
"""

from __future__ import annotations

from pathlib import Path

from emg_assets.analyses.pipelines import Pipeline
from emg_assets.analyses.results.downloads import list_downloads, validate_outputs
from emg_assets.analyses.results.errors import ResultError
from emg_assets.analyses.results.models import ImportedResults, Verdict, VerdictKind
from emg_assets.analyses.results.qc import read_quality_control
from emg_assets.analyses.results.tables import read_functions, read_taxonomy
from emg_assets.analyses.results.verdicts import MISSING_REASON, read_verdicts

__all__ = [
    "MISSING_REASON",
    "ImportedResults",
    "ResultError",
    "Verdict",
    "VerdictKind",
    "read_results",
    "read_verdicts",
    "validate_outputs",
]


def read_results(pipeline: Pipeline, result_dir: Path, accession: str) -> ImportedResults:
    """Validate a passed run's outputs and read its QC, annotations and downloads.

    :param result_dir: ``<outdir>/<accession>``.
    :raises ResultError: if a required output is missing or a table is malformed.
    """
    validate_outputs(pipeline, result_dir, accession)
    results = ImportedResults(
        quality_control=read_quality_control(result_dir, pipeline.qc, accession),
        downloads=list_downloads(pipeline, result_dir, accession),
    )
    for table in pipeline.taxonomies:
        organisms = read_taxonomy(result_dir, table, accession)
        if organisms is not None:
            results.annotations[table.annotation_key] = organisms
    for function_table in pipeline.functions:
        functions = read_functions(result_dir, function_table, accession)
        if functions is not None:
            results.annotations[function_table.annotation_key] = functions
    return results
