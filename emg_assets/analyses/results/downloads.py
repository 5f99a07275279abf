"""The downloads list of one result dir: every known output file that exists, with its size."""

from __future__ import annotations

from pathlib import Path

from emg_assets.analyses.pipelines import OutputFile, Pipeline
from emg_assets.analyses.results.errors import ResultError
from emg_assets.analyses.results.tables import table_paths
from emg_django.analyses.schemas import DownloadFile


def missing_required(pipeline: Pipeline, result_dir: Path, accession: str) -> list[str]:
    """What a passed run lacks: required files (absent or empty) and taxonomy folders."""
    problems = []
    if not result_dir.is_dir():
        return [f"no result directory {result_dir.name}/"]
    for spec in pipeline.all_files():
        if not spec.required:
            continue
        paths = table_paths(result_dir, spec.template, accession)
        if not paths or all(p.stat().st_size == 0 for p in paths):
            problems.append(spec.path(accession))
    present = [t for t in pipeline.taxonomies if (result_dir / t.folder).is_dir()]
    for table in pipeline.taxonomies:
        if table.required and table not in present:
            problems.append(f"{table.folder}/")
    if pipeline.needs_any_taxonomy and not present:
        problems.append("taxonomy-summary/<any reference database>/")
    return problems


def validate_outputs(pipeline: Pipeline, result_dir: Path, accession: str) -> None:
    """:raises ResultError: naming everything a passed run lacks."""
    problems = missing_required(pipeline, result_dir, accession)
    if problems:
        raise ResultError(f"required outputs missing or empty: {', '.join(problems)}")


def _download(spec: OutputFile, path: Path, result_dir: Path, alias: str) -> DownloadFile:
    return DownloadFile(
        alias=alias,
        path=path.relative_to(result_dir).as_posix(),
        file_type=spec.file_type,
        download_type=spec.download_type,
        download_group=spec.download_group,
        short_description=spec.short_description,
        long_description=spec.long_description,
        file_size_bytes=path.stat().st_size,
    )


def list_downloads(pipeline: Pipeline, result_dir: Path, accession: str) -> list[DownloadFile]:
    """Every existing known output file as a download (aliases are unique per analysis).

    :raises ResultError: if two outputs would be served under the same alias.
    """
    downloads: list[DownloadFile] = []
    seen: dict[str, str] = {}
    for spec in pipeline.all_files():
        for path in table_paths(result_dir, spec.template, accession):
            relative = path.relative_to(result_dir).as_posix()
            if relative in seen.values():
                continue  # listed by two specs (e.g. a table that is also a download)
            alias = spec.alias_of(path.name, accession)
            if alias in seen:
                # Krona pages repeat their name in each database folder: name the folder too.
                alias = f"{path.name.split('.')[0]}_{path.parent.name}.{path.name.split('.', 1)[1]}"
            if alias in seen:
                raise ResultError(f"two outputs served as {alias}: {seen[alias]}, {relative}")
            seen[alias] = relative
            downloads.append(_download(spec, path, result_dir, alias))
    return downloads
