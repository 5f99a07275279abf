"""Experiment type from ENA's library strategy and source, with curator-overridable policies."""

from __future__ import annotations

from collections.abc import Mapping

from emg_django.analyses.choices import ExperimentType

#: (library_strategy, library_source) → experiment type; ``None`` matches any value.
ExperimentTypeRule = tuple[str | None, str | None]

#: MGnify's defaults, most specific first. ENA's controlled values are upper case except RNA-Seq.
DEFAULT_RULES: tuple[tuple[ExperimentTypeRule, ExperimentType], ...] = (
    (("AMPLICON", None), ExperimentType.AMPLICON),
    ((None, "METATRANSCRIPTOMIC"), ExperimentType.METATRANSCRIPTOMIC),
    (("RNA-SEQ", "TRANSCRIPTOMIC"), ExperimentType.METATRANSCRIPTOMIC),
    (("RNA-SEQ", "METAGENOMIC"), ExperimentType.METATRANSCRIPTOMIC),
    (("WGS", "METAGENOMIC"), ExperimentType.METAGENOMIC),
    (("WGA", "METAGENOMIC"), ExperimentType.METAGENOMIC),
    (("OTHER", "METAGENOMIC"), ExperimentType.METAGENOMIC),
    (("WGS", "GENOMIC"), ExperimentType.METAGENOMIC),
)


def infer_experiment_type(
    library_strategy: str | None,
    library_source: str | None,
    overrides: Mapping[ExperimentTypeRule, ExperimentType] | None = None,
) -> ExperimentType:
    """The experiment type of a run.

    :param library_strategy: ENA's ``library_strategy`` (``AMPLICON``, ``WGS``, ``RNA-Seq``…).
    :param library_source: ENA's ``library_source`` (``METAGENOMIC``, ``METATRANSCRIPTOMIC``…).
    :param overrides: a curator's policy, consulted before the defaults; keys are
        ``(strategy, source)`` with ``None`` as a wildcard.
    :return: :attr:`ExperimentType.UNKNOWN` when nothing matches.
    """
    strategy = (library_strategy or "").strip().upper() or None
    source = (library_source or "").strip().upper() or None
    normalised = {
        (s.upper() if s else None, o.upper() if o else None): kind
        for (s, o), kind in (overrides or {}).items()
    }
    for rules in (tuple(normalised.items()), DEFAULT_RULES):
        for (rule_strategy, rule_source), kind in rules:
            if rule_strategy not in (None, strategy) or rule_source not in (None, source):
                continue
            return ExperimentType(kind)
    return ExperimentType.UNKNOWN
