"""The ENA Portal API client: a Dagster resource with retries, rate limiting and typed helpers.

How it speaks to ENA (see ENA.md):

* ``GET {portal_api_url}/search`` with ``result``, ``query``, ``fields``, ``limit`` (0 = all),
  ``format=json``, ``dataPortal`` and ``includeMetagenomes``; a ``POST`` with the same form
  parameters when they would make a URL too long. Queries are :class:`ENAQuery` objects only:
  no text is pasted into a query unchecked.
* Helpers look in ``dataPortal=metagenome`` first, then in ``ena``.
* Empty answers (200 ``[]``, 200 with no body, 204) are empty lists.
* Retries with exponential backoff and jitter on 5xx, time-outs, connection errors and
  truncated JSON; on 429 the whole process waits ``Retry-After`` seconds. 400 raises
  :class:`ENABadRequestError` quoting ENA's message; 401/403 raise :class:`ENAAuthError`. Once
  the retries are spent, :class:`ENAUnavailableError` names the URL and the last error.
* At most ``max_requests_per_second`` (≤ 50, ENA's published limit) per process and host.
* Private data: the same requests with HTTP Basic auth of the Webin data-hub account.
  :meth:`ENAClient.get_study` asks without credentials first; a study found only with them is
  private (``is_private``).

Usage::

    client = ENAClient.from_config(get_config().ena, get_config().webin)
    study = client.get_study("PRJEB41657")
    runs = client.get_read_runs(study.study_accession, authenticated=study.is_private)
    context.add_output_metadata(client.stats.as_metadata())
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import IO, TYPE_CHECKING, TypeVar
from urllib.parse import urlencode, urlsplit

import dagster as dg
import httpx
from pydantic import Field, PrivateAttr, field_validator, model_validator

from emg_assets.ena import fields as f
from emg_assets.ena.errors import (
    ENAAuthError,
    ENABadRequestError,
    ENAResponseError,
    ENAUnavailableError,
)
from emg_assets.ena.query import ENAQuery, ENAQueryError
from emg_assets.ena.ratelimit import RateLimiter, shared_rate_limiter
from emg_assets.ena.records import (
    ENAAssemblyRecord,
    ENAReadRunRecord,
    ENARecord,
    ENASampleRecord,
    ENAStudyRecord,
    ParseResult,
    RecordStream,
    parse_record,
    parse_records,
)
from emg_assets.ena.rows import InvalidAnswer, MalformedAnswer, SpooledRows
from emg_assets.ena.rows import spool as spool_body
from emg_assets.ena.vocabulary import AssemblyType, DataPortal, ENAResult
from emg_django.core.ena_accessions import ACCESSION_PATTERNS, validate_study_accession

if TYPE_CHECKING:
    from emg_django.config import ENAConfig, WebinConfig

logger = logging.getLogger(__name__)

DEFAULT_PORTAL_API_URL = "https://www.ebi.ac.uk/ena/portal/api"
#: ENA's published limit; the configured rate may not exceed it.
ENA_MAX_REQUESTS_PER_SECOND = 50.0

# Endpoints and parameter names of the Portal API.
SEARCH = "search"
COUNT = "count"
FILEREPORT = "filereport"
P_RESULT = "result"
P_QUERY = "query"
P_FIELDS = "fields"
P_LIMIT = "limit"
P_FORMAT = "format"
P_DATA_PORTAL = "dataPortal"
P_INCLUDE_METAGENOMES = "includeMetagenomes"
P_ACCESSION = "accession"
FORMAT_JSON = "json"
FORMAT_TSV = "tsv"
#: Key of the error text in ENA's 400 answers.
ENA_MESSAGE = "message"
#: Header of the wait ENA asks for on 429.
RETRY_AFTER = "Retry-After"

#: Above this many characters of encoded parameters, send a form POST instead of a GET: long
#: queries (many accessions) exceed what proxies accept in a URL.
MAX_GET_PARAMS_CHARS = 4000
#: Longest URL quoted in an error message.
MAX_URL_IN_MESSAGE = 1000
#: Longest piece of a response body quoted in an error message.
MAX_BODY_IN_MESSAGE = 300

T = TypeVar("T")
RecordT = TypeVar("RecordT", bound=ENARecord)


class _RetryableResponse(Exception):
    """A 2xx answer whose body is unusable in a way a retry may fix (e.g. truncated JSON)."""


class _UnusableResponse(Exception):
    """A 2xx answer whose body has the wrong shape (a retry would not help)."""


@dataclass
class ENARequestStats:
    """What a client has spent on ENA: for materialisation metadata ("ENA request count and time").

    ``requests`` counts HTTP requests (retries included); ``seconds`` is the wall time of the
    client's calls, waits for the rate limit and backoff included.
    """

    calls: int = 0
    requests: int = 0
    retries: int = 0
    failures: int = 0
    rows: int = 0
    seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **increments: float) -> None:
        """Add to counters (thread-safe)."""
        with self._lock:
            for name, increment in increments.items():
                setattr(self, name, getattr(self, name) + increment)

    def snapshot(self) -> ENARequestStats:
        """A copy of the counters now."""
        with self._lock:
            return ENARequestStats(**{name: getattr(self, name) for name in _COUNTERS})

    def __sub__(self, other: ENARequestStats) -> ENARequestStats:
        """The counters spent between two snapshots (``after - before``)."""
        return ENARequestStats(
            **{name: getattr(self, name) - getattr(other, name) for name in _COUNTERS}
        )

    def as_metadata(self) -> dict[str, int | float]:
        """Counters as Dagster metadata values (``ena_requests``, ``ena_seconds``…)."""
        return {
            "ena_calls": self.calls,
            "ena_requests": self.requests,
            "ena_retries": self.retries,
            "ena_failures": self.failures,
            "ena_rows": self.rows,
            "ena_seconds": round(self.seconds, 3),
        }


#: The counter fields of :class:`ENARequestStats`.
_COUNTERS = tuple(item.name for item in fields(ENARequestStats) if not item.name.startswith("_"))


class ENAClient(dg.ConfigurableResource):
    """ENA Portal API client (a Dagster resource; usable without Dagster too).

    In a Dagster ``Definitions``, pass the password from the environment:
    ``ENAClient(..., datahub_password=dg.EnvVar("EMG_WEBIN__DATAHUB_PASSWORD"))``, or build it
    with :meth:`from_config`.
    """

    portal_api_url: str = Field(
        default=DEFAULT_PORTAL_API_URL, description="Base of the ENA Portal API (…/ena/portal/api)."
    )
    timeout_seconds: float = Field(default=60.0, description="Connect/read time-out per request.")
    max_retries: int = Field(default=5, description="Retries after the first attempt.")
    max_requests_per_second: float = Field(
        default=20.0, description="Requests per second, per process and host (at most 50)."
    )
    datahub_username: str | None = Field(default=None, description="Webin data-hub account.")
    datahub_password: str | None = Field(default=None, description="Its password (from env).")
    backoff_base_seconds: float = Field(default=1.0, description="First retry's backoff.")
    backoff_cap_seconds: float = Field(default=60.0, description="Longest backoff.")
    max_retry_after_seconds: float = Field(
        default=300.0, description="Longest Retry-After wait honoured on 429."
    )

    _http: httpx.Client | None = PrivateAttr(default=None)
    _http_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _stats: ENARequestStats = PrivateAttr(default_factory=ENARequestStats)

    @field_validator("max_requests_per_second")
    @classmethod
    def _within_ena_limit(cls, value: float) -> float:
        if not 0 < value <= ENA_MAX_REQUESTS_PER_SECOND:
            raise ValueError(
                f"max_requests_per_second must be > 0 and <= {ENA_MAX_REQUESTS_PER_SECOND} "
                f"(ENA's published limit), got {value}"
            )
        return value

    @field_validator("timeout_seconds")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError(f"must be > 0, got {value}")
        return value

    @field_validator(
        "max_retries", "backoff_base_seconds", "backoff_cap_seconds", "max_retry_after_seconds"
    )
    @classmethod
    def _not_negative(cls, value: float) -> float:
        if value < 0:
            raise ValueError(f"must be >= 0, got {value}")
        return value

    @field_validator("portal_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if urlsplit(value).scheme not in {"http", "https"}:
            raise ValueError(f"portal_api_url must be an http(s) URL, got {value!r}")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _credentials_in_pairs(self) -> ENAClient:
        if (self.datahub_username is None) != (self.datahub_password is None):
            raise ValueError("set both datahub_username and datahub_password, or neither")
        return self

    @classmethod
    def from_config(cls, ena: ENAConfig, webin: WebinConfig) -> ENAClient:
        """A client configured from the platform's ``EMGConfig.ena`` and ``.webin`` sections."""
        password = webin.datahub_password.get_secret_value() if webin.datahub_password else None
        return cls(
            portal_api_url=str(ena.portal_api_url),
            timeout_seconds=ena.timeout_seconds,
            max_retries=ena.max_retries,
            max_requests_per_second=ena.max_requests_per_second,
            datahub_username=webin.datahub_username,
            datahub_password=password,
        )

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def http(self) -> httpx.Client:
        """The connection-reusing HTTP client, created on first use."""
        with self._http_lock:
            if self._http is None or self._http.is_closed:
                self._http = httpx.Client(
                    timeout=httpx.Timeout(self.timeout_seconds),
                    limits=httpx.Limits(max_connections=10, max_keepalive_connections=10),
                    headers={"Accept": "application/json", "User-Agent": "emg-platform/ena-client"},
                )
            return self._http

    def close(self) -> None:
        """Close the HTTP connections (a later call opens new ones)."""
        with self._http_lock:
            if self._http is not None:
                self._http.close()
                self._http = None

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self.close()

    @property
    def stats(self) -> ENARequestStats:
        """Live counters of this client's requests (see :class:`ENARequestStats`)."""
        return self._stats

    @property
    def has_datahub_credentials(self) -> bool:
        """Whether private (data-hub) records can be asked for."""
        return self.datahub_username is not None and self.datahub_password is not None

    @property
    def rate_limiter(self) -> RateLimiter:
        """The process-wide limiter for this client's ENA host and rate."""
        return shared_rate_limiter(
            urlsplit(self.portal_api_url).netloc, self.max_requests_per_second
        )

    # -- raw Portal API calls -------------------------------------------------------------------

    def search(
        self,
        result: ENAResult,
        query: ENAQuery | None = None,
        fields: Sequence[str] = (),
        limit: int = 0,
        data_portal: DataPortal = DataPortal.METAGENOME,
        include_metagenomes: bool = False,
        authenticated: bool = False,
    ) -> list[dict[str, str]]:
        """``/search``: rows as ENA returns them (every value a string, ``""`` for missing).

        :param result: what to search (``ENAResult.READ_RUN`` …).
        :param query: conditions; None for all records of the result (mind the volume).
        :param fields: fields to return (ENA adds the record's accession anyway).
        :param limit: at most this many rows; 0 for all.
        :param data_portal: ``metagenome`` or ``ena``.
        :param include_metagenomes: with ``ena``, include metagenome records too.
        :param authenticated: use the data-hub account (private records visible too).
        :raises ENAQueryError: (a ValueError) for a field the result does not offer, before any
            request is made.
        :raises ENABadRequestError: ENA refused the request (its message quoted).
        :raises ENAUnavailableError: retries exhausted.
        """
        return list(
            self.search_rows(
                result, query, fields, limit, data_portal, include_metagenomes, authenticated
            )
        )

    def search_rows(
        self,
        result: ENAResult,
        query: ENAQuery | None = None,
        fields: Sequence[str] = (),
        limit: int = 0,
        data_portal: DataPortal = DataPortal.METAGENOME,
        include_metagenomes: bool = False,
        authenticated: bool = False,
    ) -> SpooledRows:
        """:meth:`search`, its rows read lazily (once) from the answer spooled to disk, for
        answers of any size (a study's runs): see :mod:`emg_assets.ena.rows`."""
        params = self._search_params(result, query, fields, limit, data_portal, include_metagenomes)
        params[P_FORMAT] = FORMAT_JSON
        return self._call(SEARCH, params, authenticated, self._spooled_rows, spool=True)

    def _spooled_rows(self, body: IO[bytes], url: str) -> SpooledRows:
        try:
            rows = SpooledRows(body, url)
        except InvalidAnswer as error:
            # Seen when a long answer is cut off mid-stream: a retry usually gets all of it.
            raise _RetryableResponse(str(error)) from error
        except MalformedAnswer as error:
            raise _UnusableResponse(str(error)) from error
        self._stats.add(rows=rows.count)
        return rows

    def count(
        self,
        result: ENAResult,
        query: ENAQuery | None = None,
        data_portal: DataPortal = DataPortal.METAGENOME,
        include_metagenomes: bool = False,
        authenticated: bool = False,
    ) -> int:
        """``/count``: how many records ``search`` would return (asked as TSV, ``count\\nN``)."""
        params = self._search_params(result, query, (), 0, data_portal, include_metagenomes)
        del params[P_LIMIT]
        params[P_FORMAT] = FORMAT_TSV
        return self._call(COUNT, params, authenticated, _count)

    def file_report(
        self,
        accession: str,
        result: ENAResult = ENAResult.READ_RUN,
        fields: Sequence[str] = f.READ_RUN_FIELDS,
        authenticated: bool = False,
    ) -> list[dict[str, str]]:
        """``/filereport``: the runs (or analyses) of a study, sample, experiment or run."""
        if not any(pattern.fullmatch(accession) for pattern in ACCESSION_PATTERNS.values()):
            raise ENAQueryError(f"{accession!r} is not an ENA accession")
        self._check_fields(ENAResult(result), fields)
        params = {
            P_ACCESSION: accession,
            P_RESULT: ENAResult(result).value,
            P_FIELDS: ",".join(fields),
            P_LIMIT: "0",
            P_FORMAT: FORMAT_JSON,
        }
        return list(self._call(FILEREPORT, params, authenticated, self._spooled_rows, spool=True))

    # -- typed helpers ---------------------------------------------------------------------------

    def get_study(
        self, accession: str, fields: Sequence[str] = f.STUDY_FIELDS
    ) -> ENAStudyRecord | None:
        """A study by primary or secondary accession, or None if ENA has it in neither portal.

        Looks without credentials first (metagenome portal, then ena); if not found and data-hub
        credentials are configured, looks again with them: found only then means private
        (``is_private=True``). Not found at all: suppressed, unknown, or private to someone
        else — ENA does not say which.

        :raises ENAResponseError: if ENA's row has no usable accession.
        """
        validate_study_accession(accession)
        query = ENAQuery.for_study(accession)
        rows = list(
            self._search_portals(ENAResult.STUDY, query, fields, 0, None, authenticated=False)
        )
        is_private = False
        if not rows and self.has_datahub_credentials:
            rows = list(
                self._search_portals(ENAResult.STUDY, query, fields, 0, None, authenticated=True)
            )
            is_private = bool(rows)
        if not rows:
            return None
        # A secondary accession can in principle map to several rows: prefer the exact one.
        row = next(
            (
                candidate
                for candidate in rows
                if accession == candidate.get(f.STUDY_ACCESSION)
                or accession in candidate.get(f.SECONDARY_STUDY_ACCESSION, "").split(";")
            ),
            rows[0],
        )
        record, problems = parse_record(ENAStudyRecord, row)
        if record is None:
            raise ENAResponseError(
                f"ENA's row for study {accession} is unusable: "
                + "; ".join(str(problem) for problem in problems),
                self.portal_api_url,
            )
        record.is_private = is_private
        return record

    def stream_samples(
        self,
        study_accession: str,
        limit: int = 0,
        fields: Sequence[str] = f.SAMPLE_FIELDS,
        authenticated: bool = False,
        data_portal: DataPortal | None = None,
    ) -> RecordStream[ENASampleRecord]:
        """A study's samples: ``result=sample`` and
        ``(study_accession=X OR secondary_study_accession=X)``, parsed as they are read.

        :param limit: at most this many samples (0 = all): the "sample limit" of a run config.
        :param authenticated: True for a private study (pass ``study.is_private``).
        :param data_portal: None: metagenome portal first, then ena.
        """
        return self._stream_children(
            ENAResult.SAMPLE,
            ENASampleRecord,
            study_accession,
            None,
            fields,
            limit,
            authenticated,
            data_portal,
        )

    def get_samples(
        self,
        study_accession: str,
        limit: int = 0,
        fields: Sequence[str] = f.SAMPLE_FIELDS,
        authenticated: bool = False,
        data_portal: DataPortal | None = None,
    ) -> ParseResult[ENASampleRecord]:
        """:meth:`stream_samples`, all at once."""
        return self.stream_samples(
            study_accession, limit, fields, authenticated, data_portal
        ).collect()

    def stream_read_runs(
        self,
        study_accession: str,
        limit: int = 0,
        fields: Sequence[str] = f.READ_RUN_FIELDS,
        authenticated: bool = False,
        data_portal: DataPortal | None = None,
    ) -> RecordStream[ENAReadRunRecord]:
        """A study's read runs with their fastq files (``result=read_run``), parsed as they are
        read (a study can have hundreds of thousands)."""
        return self._stream_children(
            ENAResult.READ_RUN,
            ENAReadRunRecord,
            study_accession,
            None,
            fields,
            limit,
            authenticated,
            data_portal,
        )

    def get_read_runs(
        self,
        study_accession: str,
        limit: int = 0,
        fields: Sequence[str] = f.READ_RUN_FIELDS,
        authenticated: bool = False,
        data_portal: DataPortal | None = None,
    ) -> ParseResult[ENAReadRunRecord]:
        """:meth:`stream_read_runs`, all at once."""
        return self.stream_read_runs(
            study_accession, limit, fields, authenticated, data_portal
        ).collect()

    def get_assemblies(
        self,
        study_accession: str,
        limit: int = 0,
        fields: Sequence[str] = f.ANALYSIS_FIELDS,
        authenticated: bool = False,
        data_portal: DataPortal | None = None,
    ) -> ParseResult[ENAAssemblyRecord]:
        """A study's primary metagenome assemblies (``result=analysis``,
        ``assembly_type="primary metagenome"``); co-assemblies list several runs."""
        extra = ENAQuery.eq(f.ASSEMBLY_TYPE, AssemblyType.PRIMARY_METAGENOME)
        return self._stream_children(
            ENAResult.ANALYSIS,
            ENAAssemblyRecord,
            study_accession,
            extra,
            fields,
            limit,
            authenticated,
            data_portal,
        ).collect()

    def find_studies(
        self,
        first_public_from: dt.date,
        first_public_to: dt.date | None = None,
        library_strategies: Sequence[str] | None = None,
        include_updated: bool = True,
        data_portal: DataPortal = DataPortal.METAGENOME,
        fields: Sequence[str] = f.STUDY_FIELDS,
        limit: int = 0,
        authenticated: bool = False,
    ) -> ParseResult[ENAStudyRecord]:
        """Studies with reads made public (or updated) in a date window: for the new-studies sensor.

        One request::

            result=read_study & dataPortal=metagenome &
            query=((first_public>=FROM AND first_public<=TO)
                   OR (last_updated>=FROM AND last_updated<=TO))

        (``<=TO`` only when ``first_public_to`` is given; the ``last_updated`` half only when
        ``include_updated``). ``read_study`` rather than ``study``: only studies with read data
        can be analysed. Dates are days, both ends inclusive: a sensor whose cursor is the last
        day seen re-reads that day and must de-duplicate (it should anyway: ENA's order is not
        stable and a day's studies may arrive after the sensor looked).

        :param library_strategies: keep only studies with a run of one of these strategies
            (e.g. ``["AMPLICON", "WGS"]``) that was itself made public or updated in the window:
            a second request, ``result=read_run`` with the same window and
            ``library_strategy="…"`` conditions, returning study accessions only.
        """
        window = self._date_window(f.FIRST_PUBLIC, first_public_from, first_public_to)
        if include_updated:
            window = window | self._date_window(f.LAST_UPDATED, first_public_from, first_public_to)
        rows = self.search(
            ENAResult.READ_STUDY, window, fields, limit, data_portal, authenticated=authenticated
        )
        if library_strategies is not None:
            strategy_query = window & ENAQuery.any_of(f.LIBRARY_STRATEGY, library_strategies)
            run_rows = self.search(
                ENAResult.READ_RUN,
                strategy_query,
                (f.STUDY_ACCESSION, f.SECONDARY_STUDY_ACCESSION),
                0,
                data_portal,
                authenticated=authenticated,
            )
            wanted = {row.get(f.STUDY_ACCESSION) for row in run_rows}
            rows = [row for row in rows if row.get(f.STUDY_ACCESSION) in wanted]
        return parse_records(ENAStudyRecord, rows)

    # -- internals -------------------------------------------------------------------------------

    @staticmethod
    def _date_window(name: str, start: dt.date, end: dt.date | None) -> ENAQuery:
        query = ENAQuery.gte(name, start)
        return query if end is None else query & ENAQuery.lte(name, end)

    def _stream_children(
        self,
        result: ENAResult,
        model: type[RecordT],
        study_accession: str,
        extra: ENAQuery | None,
        fields: Sequence[str],
        limit: int,
        authenticated: bool,
        data_portal: DataPortal | None,
    ) -> RecordStream[RecordT]:
        validate_study_accession(study_accession)
        query = ENAQuery.for_study(study_accession)
        if extra is not None:
            query = query & extra
        rows = self._search_portals(result, query, fields, limit, data_portal, authenticated)
        return RecordStream(model, rows)

    def _search_portals(
        self,
        result: ENAResult,
        query: ENAQuery,
        fields: Sequence[str],
        limit: int,
        data_portal: DataPortal | None,
        authenticated: bool,
    ) -> SpooledRows:
        """Search one portal, or (None) the metagenome portal and then, if empty, ena."""
        portals = (DataPortal.METAGENOME, DataPortal.ENA) if data_portal is None else (data_portal,)
        for portal in portals:
            rows = self.search_rows(
                result, query, fields, limit, portal, authenticated=authenticated
            )
            if not rows.empty or portal is portals[-1]:
                return rows
            rows.close()
        raise AssertionError("unreachable: the last portal's rows are returned")

    def _check_fields(self, result: ENAResult, names: Sequence[str]) -> None:
        if isinstance(names, str):
            # A bare string would be iterated per character: refuse the easy mistake.
            raise ENAQueryError(f"fields must be a sequence of names, got the string {names!r}")
        unknown = f.unknown_fields(result, names)
        if unknown:
            raise ENAQueryError(f"result={result.value} has no field(s) {', '.join(unknown)}")

    def _search_params(
        self,
        result: ENAResult,
        query: ENAQuery | None,
        fields: Sequence[str],
        limit: int,
        data_portal: DataPortal,
        include_metagenomes: bool,
    ) -> dict[str, str]:
        result = ENAResult(result)
        data_portal = DataPortal(data_portal)
        self._check_fields(result, fields)
        params = {P_RESULT: result.value}
        if query is not None:
            if not isinstance(query, ENAQuery):
                raise TypeError(
                    f"query must be an ENAQuery (built and validated), got {type(query)}"
                )
            query.validate_for(result)
            params[P_QUERY] = query.render()
        if fields:
            params[P_FIELDS] = ",".join(fields)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ENAQueryError(f"limit must be an integer >= 0 (0 = all), got {limit!r}")
        params[P_LIMIT] = str(limit)
        params[P_DATA_PORTAL] = data_portal.value
        if include_metagenomes:
            params[P_INCLUDE_METAGENOMES] = "true"
        return params

    def _auth(self, authenticated: bool, url: str) -> httpx.BasicAuth | None:
        if not authenticated:
            return None
        if self.datahub_username is None or self.datahub_password is None:
            raise ENAAuthError(
                "an authenticated ENA request needs datahub_username and datahub_password "
                "(EMG_WEBIN__DATAHUB_USERNAME / EMG_WEBIN__DATAHUB_PASSWORD)",
                url,
            )
        return httpx.BasicAuth(self.datahub_username, self.datahub_password)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: half the step fixed, half random, so retries of
        many clients spread out while each still waits a predictable minimum."""
        step = min(self.backoff_cap_seconds, self.backoff_base_seconds * (2**attempt))
        return step / 2 + random.uniform(0, step / 2)

    def _call(
        self,
        endpoint: str,
        params: dict[str, str],
        authenticated: bool,
        parse: Callable[..., T],
        spool: bool = False,
    ) -> T:
        """One Portal API call, retried as the module docstring says.

        :param parse: turns the 2xx answer into the result: ``parse(response)``, or with
            ``spool``, ``parse(body, url)`` where ``body`` is the answer's body downloaded to a
            (spooled) temporary file as it arrives.
        """
        url = f"{self.portal_api_url}/{endpoint}"
        encoded = urlencode(params)
        shown_url = _shorten(f"{url}?{encoded}", MAX_URL_IN_MESSAGE)
        # httpx.Auth() is httpx's no-op auth: anonymous requests.
        auth = self._auth(authenticated, shown_url) or httpx.Auth()
        use_post = len(encoded) > MAX_GET_PARAMS_CHARS
        limiter = self.rate_limiter
        http = self.http
        started = time.perf_counter()
        self._stats.add(calls=1)
        last_error = ""
        attempt = 0
        try:
            for attempt in range(self.max_retries + 1):
                limiter.acquire()
                self._stats.add(requests=1)
                delay: float | None = None
                body: IO[bytes] | None = None
                try:
                    request = (
                        http.build_request("POST", url, data=params)
                        if use_post
                        else http.build_request("GET", url, params=params)
                    )
                    response = http.send(request, auth=auth, stream=True)
                    try:
                        if spool and response.is_success:
                            body = spool_body(response)
                        else:
                            response.read()
                    finally:
                        response.close()
                except httpx.TimeoutException as error:
                    last_error = f"timed out after {self.timeout_seconds}s ({type(error).__name__})"
                except httpx.TransportError as error:
                    last_error = f"{type(error).__name__}: {error}"
                else:
                    status = response.status_code
                    if status == httpx.codes.TOO_MANY_REQUESTS:
                        header = response.headers.get(RETRY_AFTER)
                        retry_after = _retry_after_seconds(header)
                        last_error = f"429 Too Many Requests (Retry-After: {header})"
                        if retry_after is not None:
                            delay = min(retry_after, self.max_retry_after_seconds)
                            # Everyone in the process waits: ENA counts our requests together.
                            # The next limiter.acquire() does the waiting.
                            limiter.defer(delay)
                    elif status >= 500:
                        last_error = f"{status} {response.reason_phrase}: {_body_excerpt(response)}"
                    elif status == httpx.codes.BAD_REQUEST:
                        raise ENABadRequestError(_ena_message(response), shown_url)
                    elif status in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
                        raise ENAAuthError(
                            f"ENA refused the credentials ({status}): {shown_url}", shown_url
                        )
                    elif not 200 <= status < 300:
                        raise ENAResponseError(
                            f"unexpected ENA answer {status} {response.reason_phrase}: "
                            f"{_body_excerpt(response)}: {shown_url}",
                            shown_url,
                        )
                    else:
                        try:
                            return parse(body, shown_url) if spool else parse(response)
                        except _RetryableResponse as error:
                            last_error = str(error)
                        except _UnusableResponse as error:
                            raise ENAResponseError(f"{error}: {shown_url}", shown_url) from error
                if attempt < self.max_retries:
                    self._stats.add(retries=1)
                    if delay is None:
                        delay = self._backoff(attempt)
                        logger.warning(
                            "ENA request failed (%s), retry %d/%d in %.2fs: %s",
                            last_error,
                            attempt + 1,
                            self.max_retries,
                            delay,
                            shown_url,
                        )
                        time.sleep(delay)
                    else:
                        logger.warning(
                            "ENA asked to wait (%s), retry %d/%d after the wait: %s",
                            last_error,
                            attempt + 1,
                            self.max_retries,
                            shown_url,
                        )
            raise ENAUnavailableError(shown_url, attempt + 1, last_error)
        except Exception:
            self._stats.add(failures=1)
            raise
        finally:
            self._stats.add(seconds=time.perf_counter() - started)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _body_excerpt(response: httpx.Response) -> str:
    return _shorten(response.text.strip(), MAX_BODY_IN_MESSAGE) or "<empty body>"


def _ena_message(response: httpx.Response) -> str:
    """ENA's ``{"message": …}``, or the body itself when it is not that."""
    try:
        body = response.json()
    except ValueError:
        return _body_excerpt(response)
    if isinstance(body, dict) and isinstance(body.get(ENA_MESSAGE), str):
        return body[ENA_MESSAGE]
    return _body_excerpt(response)


def _retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        logger.warning("unreadable Retry-After header %r: using backoff instead", value)
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _count(response: httpx.Response) -> int:
    """A ``/count`` answer: TSV ``count\\nN`` (or JSON ``{"count": N}``)."""
    text = response.text.strip()
    if not text:
        raise _RetryableResponse("empty /count answer")
    try:
        if text.startswith("{"):
            return int(json.loads(text)["count"])
        lines = text.splitlines()
        if len(lines) == 2 and lines[0].strip() == "count":
            return int(lines[1].strip())
    except (ValueError, KeyError, TypeError) as error:
        raise _RetryableResponse(f"unreadable /count answer {text[:100]!r}: {error}") from error
    raise _UnusableResponse(f"unexpected /count answer {_shorten(text, 100)!r}")
