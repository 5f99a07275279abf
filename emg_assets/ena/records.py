"""Typed records from ENA's string-valued Portal API rows.

ENA answers every value as a string: ``""`` for missing (never null), numbers and dates as text,
multi-valued fields joined by ``;``. The models here turn a row into typed fields:

* ``""`` → ``None`` (or ``[]`` for list fields);
* ``;``-joined fields (``fastq_ftp``, ``secondary_study_accession``, a co-assembly's
  ``run_accession`` …) → lists; their names stay ENA's, so ``secondary_study_accession`` is a list;
* integers, decimals and ``YYYY-MM-DD`` dates parsed;
* the row itself, minus empty values, kept in ``.raw`` (the metadata JSON stored in the database).

A bad value never sinks a batch: :func:`parse_records` reports it (accession, field, value,
reason), drops that field, and keeps the record; only a row whose accession is missing or invalid
is left out. Consistency problems that do not stop parsing (a paired run without ``_1``/``_2``
files, md5 and size lists that do not match the file list) are reported the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar, Generic, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from emg_assets.ena import fields as f
from emg_assets.ena.vocabulary import LibraryLayout
from emg_django.core.ena_accessions import AccessionKind, validate_accession

#: ENA gives ftp paths without a scheme (``ftp.sra.ebi.ac.uk/vol1/…``); this one is added.
FTP_SCHEME = "ftp://"
#: The separator of multi-valued fields.
LIST_SEPARATOR = ";"
#: Key under which a record keeps its raw row.
RAW = "raw"
#: Key of the accession field in :class:`ParseProblem` for rows that have none.
NO_ACCESSION = ""


class ParseProblem(NamedTuple):
    """A value that could not be used, or a record that is inconsistent."""

    accession: str
    field: str
    value: str
    reason: str

    def __str__(self) -> str:
        return f"{self.accession or '<no accession>'}: {self.field}={self.value!r}: {self.reason}"


class FastqFile(NamedTuple):
    """One fastq file of a run."""

    #: ``ftp://`` URL (ENA gives the path without a scheme).
    url: str
    md5: str | None
    size_bytes: int | None
    #: 1 or 2 for the ``_1``/``_2`` files of a paired run; None for a run's unnumbered file.
    read_number: int | None


class ENARecord(BaseModel):
    """Base of the typed ENA records."""

    model_config = ConfigDict(extra="ignore", frozen=False, validate_default=False)

    #: Fields that ENA joins with ``;`` (subclasses extend).
    list_fields: ClassVar[frozenset[str]] = frozenset()
    #: The field holding the record's own accession.
    accession_field: ClassVar[str]
    #: Kinds the accession must be of.
    accession_kinds: ClassVar[tuple[AccessionKind, ...]]

    #: The row as ENA sent it, without empty values.
    raw: dict[str, str] = Field(default_factory=dict, repr=False)
    #: Problems found while parsing this record (also in :attr:`ParseResult.problems`).
    problems: list[ParseProblem] = Field(default_factory=list, repr=False, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _from_ena_row(cls, data: Any) -> Any:
        """Turn an ENA row (all strings) into the model's input; leave prepared input alone."""
        if not isinstance(data, Mapping) or RAW in data:
            return data
        return cls.prepare_row(data)

    @classmethod
    def prepare_row(cls, row: Mapping[str, str]) -> dict[str, Any]:
        """The model input for an ENA row: empties dropped, lists split, ``raw`` attached."""
        raw: dict[str, str] = {}
        data: dict[str, Any] = {}
        list_fields = cls.list_fields
        for name, value in row.items():
            if value is None or value == "":
                continue
            raw[name] = value
            if name in list_fields:
                data[name] = [part for part in value.split(LIST_SEPARATOR) if part]
            else:
                data[name] = value
        data[RAW] = raw
        return data

    @property
    def accession(self) -> str:
        """The record's own accession."""
        return getattr(self, self.accession_field)

    def consistency_problems(self) -> list[ParseProblem]:
        """Problems that do not stop parsing but make the record doubtful (none by default)."""
        return []


def _check_accession(cls: type[ENARecord], value: str) -> str:
    return validate_accession(value, cls.accession_kinds)


class ENAStudyRecord(ENARecord):
    """A study (``result=study`` or ``read_study``)."""

    list_fields: ClassVar[frozenset[str]] = frozenset(
        {f.SECONDARY_STUDY_ACCESSION, f.PARENT_STUDY_ACCESSION}
    )
    accession_field: ClassVar[str] = f.STUDY_ACCESSION
    accession_kinds: ClassVar[tuple[AccessionKind, ...]] = (
        AccessionKind.STUDY,
        AccessionKind.SECONDARY_STUDY,
    )

    study_accession: str
    secondary_study_accession: list[str] = Field(default_factory=list)
    study_title: str | None = None
    study_description: str | None = None
    study_name: str | None = None
    center_name: str | None = None
    first_public: dt.date | None = None
    last_updated: dt.date | None = None
    tax_id: int | None = None
    scientific_name: str | None = None
    parent_study_accession: list[str] = Field(default_factory=list)
    broker_name: str | None = None
    status: str | None = None
    #: Set by the client: found only with the data-hub account's credentials.
    is_private: bool = False

    _accession = field_validator(f.STUDY_ACCESSION)(classmethod(_check_accession))

    @property
    def accessions(self) -> list[str]:
        """All the study's accessions, the primary one first."""
        return [self.study_accession, *self.secondary_study_accession]


class ENASampleRecord(ENARecord):
    """A sample (``result=sample``)."""

    list_fields: ClassVar[frozenset[str]] = frozenset(
        {f.SECONDARY_SAMPLE_ACCESSION, f.STUDY_ACCESSION, f.SECONDARY_STUDY_ACCESSION}
    )
    accession_field: ClassVar[str] = f.SAMPLE_ACCESSION
    accession_kinds: ClassVar[tuple[AccessionKind, ...]] = (
        AccessionKind.SAMPLE,
        AccessionKind.SECONDARY_SAMPLE,
    )

    sample_accession: str
    secondary_sample_accession: list[str] = Field(default_factory=list)
    #: The studies the sample belongs to (a sample can be in several), when asked for.
    study_accession: list[str] = Field(default_factory=list)
    secondary_study_accession: list[str] = Field(default_factory=list)
    sample_title: str | None = None
    sample_alias: str | None = None
    lat: float | None = None
    lon: float | None = None
    location: str | None = None
    #: Free text in ENA ("2019-06-11", "2019-06", "2019/2020", "not collected"); see
    #: :attr:`collection_date_as_date`.
    collection_date: str | None = None
    country: str | None = None
    #: Free text in ENA (units vary).
    depth: str | None = None
    environment_biome: str | None = None
    environment_feature: str | None = None
    environment_material: str | None = None
    host: str | None = None
    host_tax_id: int | None = None
    tax_id: int | None = None
    scientific_name: str | None = None
    checklist: str | None = None
    center_name: str | None = None
    first_public: dt.date | None = None
    last_updated: dt.date | None = None

    _accession = field_validator(f.SAMPLE_ACCESSION)(classmethod(_check_accession))

    @property
    def collection_date_as_date(self) -> dt.date | None:
        """``collection_date`` when it is a full ``YYYY-MM-DD`` date, else None."""
        return _iso_date_or_none(self.collection_date)


def _iso_date_or_none(value: str | None) -> dt.date | None:
    if value is None or len(value) != 10:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


class ENAReadRunRecord(ENARecord):
    """A read run (``result=read_run``) and its fastq files."""

    list_fields: ClassVar[frozenset[str]] = frozenset(
        {
            f.SECONDARY_SAMPLE_ACCESSION,
            f.SECONDARY_STUDY_ACCESSION,
            f.FASTQ_FTP,
            f.FASTQ_MD5,
            f.FASTQ_BYTES,
        }
    )
    accession_field: ClassVar[str] = f.RUN_ACCESSION
    accession_kinds: ClassVar[tuple[AccessionKind, ...]] = (AccessionKind.RUN,)

    run_accession: str
    experiment_accession: str | None = None
    sample_accession: str | None = None
    secondary_sample_accession: list[str] = Field(default_factory=list)
    study_accession: str | None = None
    secondary_study_accession: list[str] = Field(default_factory=list)
    #: A :class:`~emg_assets.ena.vocabulary.LibraryStrategy` value; kept as text so a value ENA
    #: adds later is stored rather than rejected.
    library_strategy: str | None = None
    library_layout: LibraryLayout | None = None
    #: A :class:`~emg_assets.ena.vocabulary.LibrarySource` value (text, as above).
    library_source: str | None = None
    library_selection: str | None = None
    library_name: str | None = None
    instrument_platform: str | None = None
    instrument_model: str | None = None
    fastq_ftp: list[str] = Field(default_factory=list)
    fastq_md5: list[str] = Field(default_factory=list)
    fastq_bytes: list[int] = Field(default_factory=list)
    read_count: int | None = None
    base_count: int | None = None
    first_public: dt.date | None = None
    last_updated: dt.date | None = None
    scientific_name: str | None = None
    tax_id: int | None = None
    host_tax_id: int | None = None
    sample_title: str | None = None
    lat: float | None = None
    lon: float | None = None
    collection_date: str | None = None
    country: str | None = None

    _accession = field_validator(f.RUN_ACCESSION)(classmethod(_check_accession))

    @cached_property
    def fastq_files(self) -> list[FastqFile]:
        """The run's fastq files, with md5 and size when ENA's lists line up with the paths.

        When the md5 or size list has a different length from the path list, the pairing is
        unknowable: those values are None here and :meth:`consistency_problems` reports it.
        """
        md5s: Sequence[str | None] = self.fastq_md5
        sizes: Sequence[int | None] = self.fastq_bytes
        count = len(self.fastq_ftp)
        if len(md5s) != count:
            md5s = [None] * count
        if len(sizes) != count:
            sizes = [None] * count
        return [
            FastqFile(
                url=path if "://" in path else FTP_SCHEME + path,
                md5=md5,
                size_bytes=size,
                read_number=_read_number(path),
            )
            for path, md5, size in zip(self.fastq_ftp, md5s, sizes, strict=True)
        ]

    def consistency_problems(self) -> list[ParseProblem]:
        """Fastq files that do not fit the layout, or md5/size lists that do not fit the files.

        A paired run needs a ``_1`` and a ``_2`` file (ENA sometimes adds a third, unnumbered file
        of unpaired reads: allowed); a single run needs exactly one file.
        """
        problems: list[ParseProblem] = []
        accession = self.run_accession
        paths = self.raw.get(f.FASTQ_FTP, "")
        count = len(self.fastq_ftp)
        for name, values in ((f.FASTQ_MD5, self.fastq_md5), (f.FASTQ_BYTES, self.fastq_bytes)):
            if len(values) != count:
                problems.append(
                    ParseProblem(
                        accession,
                        name,
                        self.raw.get(name, ""),
                        f"{len(values)} value(s) for {count} fastq file(s)",
                    )
                )
        if count == 0:
            problems.append(ParseProblem(accession, f.FASTQ_FTP, "", "run has no fastq files"))
        elif self.library_layout is LibraryLayout.PAIRED:
            numbers = {_read_number(path) for path in self.fastq_ftp}
            if not {1, 2} <= numbers or count > 3:
                problems.append(
                    ParseProblem(
                        accession, f.FASTQ_FTP, paths, "PAIRED run without one _1 and one _2 file"
                    )
                )
        elif self.library_layout is LibraryLayout.SINGLE and count != 1:
            problems.append(
                ParseProblem(accession, f.FASTQ_FTP, paths, f"SINGLE run with {count} files")
            )
        return problems


def _read_number(path: str) -> int | None:
    """1 or 2 for ``…_1.fastq.gz``/``…_2.fastq.gz``, None otherwise."""
    name = path.rsplit("/", 1)[-1]
    stem = name.split(".", 1)[0]
    if stem.endswith("_1"):
        return 1
    if stem.endswith("_2"):
        return 2
    return None


class ENAAssemblyRecord(ENARecord):
    """A primary metagenome assembly (``result=analysis``, ``assembly_type="primary metagenome"``).

    A co-assembly lists several runs (and possibly samples) in ``run_accession``.
    """

    list_fields: ClassVar[frozenset[str]] = frozenset(
        {
            f.RUN_ACCESSION,
            f.SAMPLE_ACCESSION,
            f.SECONDARY_SAMPLE_ACCESSION,
            f.SECONDARY_STUDY_ACCESSION,
            f.GENERATED_FTP,
            f.GENERATED_MD5,
        }
    )
    accession_field: ClassVar[str] = f.ANALYSIS_ACCESSION
    accession_kinds: ClassVar[tuple[AccessionKind, ...]] = (AccessionKind.ANALYSIS,)

    analysis_accession: str
    analysis_type: str | None = None
    assembly_type: str | None = None
    generated_ftp: list[str] = Field(default_factory=list)
    generated_md5: list[str] = Field(default_factory=list)
    run_accession: list[str] = Field(default_factory=list)
    sample_accession: list[str] = Field(default_factory=list)
    secondary_sample_accession: list[str] = Field(default_factory=list)
    study_accession: str | None = None
    secondary_study_accession: list[str] = Field(default_factory=list)
    completeness_score: float | None = None
    contamination_score: float | None = None
    assembly_software: str | None = None
    first_public: dt.date | None = None

    _accession = field_validator(f.ANALYSIS_ACCESSION)(classmethod(_check_accession))

    @property
    def is_co_assembly(self) -> bool:
        """Assembled from more than one run."""
        return len(self.run_accession) > 1

    def consistency_problems(self) -> list[ParseProblem]:
        """md5 list not matching the file list."""
        if len(self.generated_md5) != len(self.generated_ftp):
            return [
                ParseProblem(
                    self.analysis_accession,
                    f.GENERATED_MD5,
                    self.raw.get(f.GENERATED_MD5, ""),
                    f"{len(self.generated_md5)} md5(s) for {len(self.generated_ftp)} file(s)",
                )
            ]
        return []


RecordT = TypeVar("RecordT", bound=ENARecord)


@dataclass
class ParseResult(Generic[RecordT]):
    """Records parsed from a batch of rows, and every problem met."""

    records: list[RecordT] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)
    #: Rows left out (no valid accession).
    skipped: int = 0

    def __iter__(self) -> Iterator[RecordT]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)


def _problems_from(
    error: ValidationError, accession: str, data: Mapping[str, Any]
) -> tuple[list[ParseProblem], set[str]]:
    problems: list[ParseProblem] = []
    bad_fields: set[str] = set()
    raw = data.get(RAW, {})
    for detail in error.errors(include_url=False):
        location = detail["loc"]
        name = str(location[0]) if location else ""
        bad_fields.add(name)
        # Report the whole string ENA sent (for a list item, the joined value) so it can be
        # found in ENA again.
        value = "" if detail["type"] == "missing" else raw.get(name, detail.get("input", ""))
        problems.append(ParseProblem(accession, name, str(value), detail["msg"]))
    return problems, bad_fields


def parse_record(
    model: type[RecordT], row: Mapping[str, str]
) -> tuple[RecordT | None, list[ParseProblem]]:
    """Parse one ENA row; bad fields are dropped and reported, the record kept if it can be.

    :returns: the record (None if its accession is missing or invalid) and the problems.
    """
    data = model.prepare_row(row)
    accession = str(data.get(model.accession_field, NO_ACCESSION))
    try:
        record = model.model_validate(data)
    except ValidationError as error:
        problems, bad_fields = _problems_from(error, accession, data)
        if model.accession_field in bad_fields or "" in bad_fields:
            return None, problems
        cleaned = {name: value for name, value in data.items() if name not in bad_fields}
        # A second failure would be a bug in the model (the bad fields are gone): let it raise.
        record = model.model_validate(cleaned)
    else:
        problems = []
    # A field already reported as bad was dropped: its consistency problem would only echo that.
    reported = {problem.field for problem in problems}
    problems.extend(p for p in record.consistency_problems() if p.field not in reported)
    record.problems = problems
    return record, problems


class RecordStream(Generic[RecordT]):
    """Records parsed from rows as they are read (once): for answers too big to hold at once.
    ``problems`` and ``skipped`` fill in as the stream is consumed (as :class:`ParseResult`'s).
    """

    def __init__(self, model: type[RecordT], rows: Iterable[Mapping[str, str]]) -> None:
        self.model = model
        self.rows = rows
        self.problems: list[ParseProblem] = []
        self.skipped = 0

    def __iter__(self) -> Iterator[RecordT]:
        for row in self.rows:
            record, problems = parse_record(self.model, row)
            self.problems.extend(problems)
            if record is None:
                self.skipped += 1
            else:
                yield record

    def close(self) -> None:
        """Release the rows' source (a spooled answer) when they are not all read."""
        close = getattr(self.rows, "close", None)
        if close is not None:
            close()

    def collect(self) -> ParseResult[RecordT]:
        """Every record at once."""
        records = list(self)
        return ParseResult(records=records, problems=self.problems, skipped=self.skipped)


def parse_records(model: type[RecordT], rows: Iterable[Mapping[str, str]]) -> ParseResult[RecordT]:
    """Parse ENA rows into ``model`` records without letting a bad value sink the batch.

    :param model: one of the record classes (e.g. :class:`ENAReadRunRecord`).
    :param rows: rows as the Portal API returns them (``dict[str, str]``).
    :returns: the records, every problem (accession, field, value, reason) and how many rows
        were skipped for want of a valid accession.
    """
    return RecordStream(model, rows).collect()
