"""Every GET endpoint of the API, as paths built from a :class:`World` tree."""

from __future__ import annotations

from collections.abc import Callable

from tests.emg_django.api.conftest import Tree

#: Endpoints answering about one object of a tree (detail, nested, annotations).
OBJECT_ENDPOINTS: dict[str, Callable[[Tree], str]] = {
    "study": lambda t: f"studies/{t.study.accession}",
    "study_insdc": lambda t: f"studies/insdc/{t.study.ena_accessions[0]}",
    "study_insdc_secondary": lambda t: f"studies/insdc/{t.study.ena_accessions[1]}",
    "study_analyses": lambda t: f"studies/{t.study.accession}/analyses/",
    "study_samples": lambda t: f"studies/{t.study.accession}/samples/",
    "study_publications": lambda t: f"studies/{t.study.accession}/publications/",
    "sample": lambda t: f"samples/{t.samples[0].accession}",
    "sample_runs": lambda t: f"samples/{t.samples[0].accession}/runs/",
    "sample_assemblies": lambda t: f"samples/{t.samples[0].accession}/assemblies/",
    "run": lambda t: f"runs/{t.runs[0].accession}",
    "run_analyses": lambda t: f"runs/{t.runs[0].accession}/analyses/",
    "run_assemblies": lambda t: f"runs/{t.runs[0].accession}/assemblies/",
    "assembly": lambda t: f"assemblies/{t.assembly.accession}",
    "assembly_analyses": lambda t: f"assemblies/{t.assembly.accession}/analyses",
    "analysis": lambda t: f"analyses/{t.run_analysis.accession}",
    "assembly_analysis": lambda t: f"analyses/{t.assembly_analysis.accession}",
    "annotations": lambda t: f"analyses/{t.run_analysis.accession}/annotations",
    "annotations_of_type": lambda t: (
        f"analyses/{t.run_analysis.accession}/annotations/taxonomies__ssu"
    ),
}

#: Top-level lists: path, the query narrowing them to one tree, and the accessions it then lists.
LIST_ENDPOINTS: dict[
    str, tuple[str, Callable[[Tree], dict[str, str]], Callable[[Tree], set[str]]]
] = {
    "studies": ("studies/", lambda t: {}, lambda t: {t.study.accession}),
    "studies_search": (
        "studies/",
        lambda t: {"search": t.study.ena_accessions[0]},
        lambda t: {t.study.accession},
    ),
    "studies_search_mgys": (
        "studies/",
        lambda t: {"search": t.study.accession},
        lambda t: {t.study.accession},
    ),
    "samples": ("samples/", lambda t: {}, lambda t: {s.accession for s in t.samples}),
    "samples_search": (
        "samples/",
        lambda t: {"search": t.samples[0].accession},
        lambda t: {t.samples[0].accession},
    ),
    "runs": (
        "runs/",
        lambda t: {"study_accession": t.study.accession},
        lambda t: {r.accession for r in t.runs},
    ),
    "assemblies": ("assemblies/", lambda t: {}, lambda t: {t.assembly.accession}),
    "analyses": (
        "analyses/",
        lambda t: {"study_accession": t.study.accession},
        lambda t: {a.accession for a in t.analyses},
    ),
}
