"""The ENA query builder: validated fields and values, never pasted input."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from emg_assets.ena.query import ENAQuery, ENAQueryError
from emg_assets.ena.vocabulary import AssemblyType, ENAResult, LibraryStrategy
from emg_django.core.ena_accessions import (
    AccessionKind,
    accession_kind,
    is_primary_study_accession,
    is_secondary_study_accession,
    primary_first,
    validate_study_accession,
)


def test_study_condition_matches_mgnify_form() -> None:
    query = ENAQuery.for_study("PRJNA362212")
    assert str(query) == (
        '(study_accession="PRJNA362212" OR secondary_study_accession="PRJNA362212")'
    )


def test_combinations_flatten_and_render_with_parentheses() -> None:
    query = (
        ENAQuery.gte("first_public", dt.date(2024, 1, 1))
        & ENAQuery.lte("first_public", "2024-01-31")
        & ENAQuery.eq("library_strategy", LibraryStrategy.AMPLICON)
    )
    assert str(query) == (
        '(first_public>=2024-01-01 AND first_public<=2024-01-31 AND library_strategy="AMPLICON")'
    )
    assert str(~ENAQuery.eq("tax_id", 9606)) == "NOT (tax_id=9606)"
    assert str(ENAQuery.tax_tree(408169) & ~ENAQuery.for_study("ERP125469")) == (
        '(tax_tree(408169) AND NOT (study_accession="ERP125469" '
        'OR secondary_study_accession="ERP125469"))'
    )
    assert str(ENAQuery.eq("assembly_type", AssemblyType.PRIMARY_METAGENOME)) == (
        'assembly_type="primary metagenome"'
    )


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: ENAQuery.eq("study_accession", 'PRJEB1" OR tax_id=1'), "not an accession"),
        (lambda: ENAQuery.eq("study_accession", "SAMEA7687881"), "not an accession"),
        (lambda: ENAQuery.eq("run_accession", "err4918394"), "not an accession"),
        (lambda: ENAQuery.eq("library_strategy", "amplicon"), "case-sensitive"),
        (lambda: ENAQuery.eq("no_such_field", "x"), "unknown ENA field"),
        (lambda: ENAQuery.gte("first_public", "2024-13-01"), "YYYY-MM-DD"),
        (lambda: ENAQuery.gte("first_public", dt.datetime(2024, 1, 1)), "not a datetime"),
        (lambda: ENAQuery.gte("study_title", "x"), "needs a date or numeric field"),
        (lambda: ENAQuery.eq("study_title", 'a "quoted" title'), "without quotes"),
        (lambda: ENAQuery.eq("study_title", "back\\slash"), "without quotes"),
        (lambda: ENAQuery.eq("study_title", "new\nline"), "control characters"),
        (lambda: ENAQuery.eq("tax_id", "9606 OR 1=1"), "not an integer"),
        (lambda: ENAQuery.eq("tax_id", True), "not an integer"),
        (lambda: ENAQuery.tax_tree(-1), "positive"),
        (lambda: ENAQuery.any_of("library_strategy", []), "at least one"),
        (lambda: ENAQuery.and_("tax_id=1"), "needs queries"),  # type: ignore[arg-type]
    ],
)
def test_bad_input_is_refused(build: Callable[[], object], message: str) -> None:
    with pytest.raises(ENAQueryError, match=message):
        build()


def test_validate_for_checks_the_result_offers_the_fields() -> None:
    query = ENAQuery.eq("library_strategy", "WGS")
    query.validate_for(ENAResult.READ_RUN)
    with pytest.raises(ENAQueryError, match="result=study has no field"):
        query.validate_for(ENAResult.STUDY)
    # Samples are searched by their studies' accessions.
    ENAQuery.for_study("PRJEB41657").validate_for(ENAResult.SAMPLE)


def test_accessions() -> None:
    assert accession_kind("PRJEB41657") is AccessionKind.STUDY
    assert accession_kind("SRP125161") is AccessionKind.SECONDARY_STUDY
    assert accession_kind("SAMEA7687881") is AccessionKind.SAMPLE
    assert accession_kind("SAMN06251743") is AccessionKind.SAMPLE
    assert accession_kind("SRS2696342") is AccessionKind.SECONDARY_SAMPLE
    assert accession_kind("ERR4918394") is AccessionKind.RUN
    assert accession_kind("SRX3389447") is AccessionKind.EXPERIMENT
    assert accession_kind("ERZ2626953") is AccessionKind.ANALYSIS
    assert accession_kind("GCA_000001405.29") is AccessionKind.ASSEMBLY
    assert accession_kind("PRJEB41657 ") is None
    assert accession_kind("MGYS00001234") is None
    assert is_primary_study_accession("PRJDB1234") and not is_primary_study_accession("DRP1")
    assert is_secondary_study_accession("ERP125469")
    assert validate_study_accession("ERP125469") == "ERP125469"
    with pytest.raises(ValueError, match="not a valid ENA accession"):
        validate_study_accession("a|b")
    assert primary_first(["SRP125161", "PRJNA362212", "SRP125161"]) == ["PRJNA362212", "SRP125161"]
