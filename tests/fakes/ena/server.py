"""A fake ENA (Portal API + Webin token endpoint) on 127.0.0.1: a TEST FIXTURE, not ENA.

It answers ``/ena/portal/api/search``, ``/count``, ``/filereport`` and ``/returnFields`` and
``/ena/submit/webin/auth/token`` the way ENA.md describes ENA: string values, ``""`` for
missing, ``;``-joined lists, the record's own accession always returned, 400 with
``{"message": …}`` for unknown results, fields, columns, params (``offset``) and bad syntax,
``dataPortal``/``includeMetagenomes``, HTTP Basic auth for private records, and an unstable
row order (optional, seeded). Faults can be switched on per request count.

Usage::

    with FakeENA() as ena:
        seed_realistic(ena)                       # tests.fakes.ena.datasets
        ena.fault("http_503", times=2, path="/search")
        client = ENAClient(portal_api_url=ena.portal_api_url)
        ...
        assert len(ena.requests_to("/search")) == 3
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
import logging
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

from tests.fakes.ena.querylang import QuerySyntaxError, compile_query, parse_query
from tests.fakes.ena.schema import ACCESSION_FIELD, KIND_FIELDS, RESULTS, Kind

logger = logging.getLogger(__name__)

PORTAL_API_PATH = "/ena/portal/api"
WEBIN_AUTH_PATH = "/ena/submit/webin/auth/token"
#: ENA's default cap when ``limit`` is not given.
DEFAULT_LIMIT = 100_000
#: Parameters the Portal API takes (anything else, e.g. ``offset``, is refused as ENA does).
KNOWN_PARAMS = frozenset(
    {
        "result", "query", "fields", "limit", "format", "dataPortal", "includeMetagenomes",
        "includeAccessions", "excludeAccessions", "download", "accession",
    }
)  # fmt: skip
PORTALS = frozenset({"ena", "metagenome"})
METAGENOME = "metagenome"
#: Child stores whose records belong to a study through these fields.
STUDY_LINK_FIELDS = ("study_accession", "secondary_study_accession")


class FaultMode(enum.StrEnum):
    """What a fault does to a request."""

    HTTP_500 = "http_500"
    HTTP_503 = "http_503"
    #: 429 with a ``Retry-After`` header of ``retry_after`` seconds.
    HTTP_429 = "http_429"
    #: Sleep ``delay`` seconds, then answer normally (past a client's time-out).
    SLOW = "slow"
    #: 200 with the answer's JSON cut in half (Content-Length matching the cut body).
    TRUNCATED_JSON = "truncated_json"
    #: 204 No Content.
    NO_CONTENT_204 = "no_content_204"
    #: 400 ``{"message": message}``.
    HTTP_400 = "http_400"


@dataclass
class Fault:
    """A switched-on fault: applies to the next ``remaining`` requests matching ``path``."""

    mode: FaultMode
    remaining: int
    path: str | None
    retry_after: float
    delay: float
    message: str


class LoggedRequest(NamedTuple):
    """One request the fake received."""

    #: The URL path, e.g. ``/ena/portal/api/search``.
    path: str
    #: Query-string (or form) parameters, one value each.
    params: dict[str, str]
    #: The Basic-auth user when the credentials were right, else None.
    auth_user: str | None


class _HTTPError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class _Answer:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str]


def _json_answer(payload: Any, status: int = HTTPStatus.OK) -> _Answer:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return _Answer(status, body, "application/json", {})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Do not join handler threads on close: a "slow" fault may still be sleeping.
    block_on_close = False
    allow_reuse_address = True


class FakeENA:
    """A fake ENA server on ``host`` (127.0.0.1) and ``port`` (0 = a free one).

    :param shuffle_seed: if set, rows come back shuffled (deterministically for the seed), as
        ENA's order is not stable; None keeps insertion order.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, shuffle_seed: int | None = None):
        self.host = host
        self.port = port
        self._records: dict[Kind, dict[str, dict[str, str]]] = {kind: {} for kind in Kind}
        self._portal: dict[str, str] = {}
        #: accession → owning Webin account, for private records (children inherit by study).
        self._private: dict[str, str] = {}
        self._studies_with_reads: set[str] = set()
        self._webin_accounts: dict[str, str] = {}
        self._datahub: tuple[str, str] | None = None
        self._faults: list[Fault] = []
        self._serials: dict[str, int] = {}
        self._random = random.Random(shuffle_seed) if shuffle_seed is not None else None
        self._lock = threading.RLock()
        self.requests: list[LoggedRequest] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeENA:
        """Start serving in a background thread; returns self."""
        if self._server is not None:
            raise RuntimeError("the fake ENA is already running")
        self._server = _Server((self.host, self.port), _make_handler(self))
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # a quick stop() matters in tests
            name=f"fake-ena-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeENA:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (the port is known once started)."""
        return f"http://{self.host}:{self.port}"

    @property
    def portal_api_url(self) -> str:
        """What ``EMG_ENA__PORTAL_API_URL`` should be."""
        return f"{self.base_url}{PORTAL_API_PATH}"

    @property
    def webin_auth_url(self) -> str:
        """What ``EMG_WEBIN__AUTH_URL`` should be."""
        return f"{self.base_url}{WEBIN_AUTH_PATH}"

    # -- data --------------------------------------------------------------------------------

    def _add(self, kind: Kind, record: Mapping[str, str], portal: str | None) -> str:
        fields = KIND_FIELDS[kind]
        accession_field = ACCESSION_FIELD[kind]
        unknown = sorted(set(record) - fields)
        if unknown:
            raise ValueError(f"{kind.value} has no field(s) {', '.join(unknown)} in the fake ENA")
        not_strings = sorted(name for name, value in record.items() if not isinstance(value, str))
        if not_strings:
            raise TypeError(f"ENA values are strings; not so for {', '.join(not_strings)}")
        accession = record.get(accession_field, "")
        if not accession:
            raise ValueError(f"a {kind.value} record needs {accession_field}")
        if portal is None:
            # Children live in their study's portal; a record without a known study in the
            # metagenome portal (the platform's main source).
            portal = next(
                (
                    self._portal[study]
                    for study in self._study_links(record)
                    if study in self._portal
                ),
                METAGENOME,
            )
        if portal not in PORTALS:
            raise ValueError(f"portal must be one of {sorted(PORTALS)}, got {portal!r}")
        with self._lock:
            self._records[kind][accession] = dict(record)
            self._portal[accession] = portal
            if kind is Kind.STUDY:
                for secondary in _split(record.get("secondary_study_accession", "")):
                    self._portal[secondary] = portal
            if kind is Kind.RUN:
                self._studies_with_reads.update(self._study_links(record))
        return accession

    @staticmethod
    def _study_links(record: Mapping[str, str]) -> list[str]:
        return [acc for name in STUDY_LINK_FIELDS for acc in _split(record.get(name, ""))]

    def add_study(self, record: Mapping[str, str], portal: str = METAGENOME) -> str:
        """Add a study (ENA field → string); returns its accession."""
        return self._add(Kind.STUDY, record, portal)

    def add_sample(self, record: Mapping[str, str], portal: str | None = None) -> str:
        """Add a sample; link it to its studies with ``study_accession`` and
        ``secondary_study_accession``."""
        return self._add(Kind.SAMPLE, record, portal)

    def add_run(self, record: Mapping[str, str], portal: str | None = None) -> str:
        """Add a read run (``fastq_ftp`` etc. ``;``-joined)."""
        return self._add(Kind.RUN, record, portal)

    def add_assembly(self, record: Mapping[str, str], portal: str | None = None) -> str:
        """Add an analysis (``result=analysis``), e.g. a primary metagenome assembly."""
        return self._add(Kind.ANALYSIS, record, portal)

    def add_records(
        self, kind: Kind, records: Iterable[Mapping[str, str]], portal: str | None = None
    ) -> None:
        """Add many records of one kind (what the generators use)."""
        for record in records:
            self._add(kind, record, portal)

    def set_private(self, accession: str, owner_webin: str) -> None:
        """Make a record (and, for a study, everything linked to it) visible only with Basic
        auth of ``owner_webin`` or of the data-hub account."""
        with self._lock:
            self._private[accession] = owner_webin
            study = self._records[Kind.STUDY].get(accession)
            if study is not None:
                for secondary in _split(study.get("secondary_study_accession", "")):
                    self._private[secondary] = owner_webin

    def set_public(self, accession: str) -> None:
        """Undo :meth:`set_private` (the embargo ended)."""
        with self._lock:
            self._private.pop(accession, None)
            study = self._records[Kind.STUDY].get(accession)
            if study is not None:
                for secondary in _split(study.get("secondary_study_accession", "")):
                    self._private.pop(secondary, None)

    def add_webin_account(self, username: str, password: str) -> None:
        """A Webin account: accepted by the token endpoint and (for its own private records) by
        the Portal API's Basic auth."""
        with self._lock:
            self._webin_accounts[username] = password

    def set_datahub_account(self, username: str, password: str) -> None:
        """The data-hub account: its Basic auth sees every private record."""
        with self._lock:
            self._datahub = (username, password)
            self._webin_accounts[username] = password

    def next_serials(self, prefix: str, count: int, start: int = 90_000_000) -> range:
        """Reserve ``count`` unused serial numbers for accessions starting with ``prefix``
        (generated accessions start at 90,000,000 to stay clear of the real ones used)."""
        with self._lock:
            first = self._serials.get(prefix, start)
            self._serials[prefix] = first + count
        return range(first, first + count)

    def record(self, kind: Kind, accession: str) -> dict[str, str] | None:
        """A stored record (for assertions)."""
        return self._records[kind].get(accession)

    def count_records(self, kind: Kind) -> int:
        """How many records of ``kind`` are stored."""
        return len(self._records[kind])

    # -- faults and request log ----------------------------------------------------------------

    def fault(
        self,
        mode: FaultMode | str,
        times: int = 1,
        path: str | None = None,
        *,
        retry_after: float = 1,
        delay: float = 2.0,
        message: str = "Invalid query",
    ) -> Fault:
        """Make the next ``times`` requests (to ``path``, e.g. ``"/search"``; None = any) fail.

        :param mode: a :class:`FaultMode` (``"http_500"``, ``"http_429"``, ``"slow"`` …).
        :param retry_after: seconds in the 429's ``Retry-After``.
        :param delay: seconds a ``slow`` answer sleeps first.
        :param message: ENA's message in a ``http_400``.
        """
        fault = Fault(FaultMode(mode), times, path, retry_after, delay, message)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Switch every fault off."""
        with self._lock:
            self._faults.clear()

    def requests_to(self, path_suffix: str) -> list[LoggedRequest]:
        """Logged requests whose path ends with ``path_suffix`` (e.g. ``"/search"``)."""
        with self._lock:
            return [request for request in self.requests if request.path.endswith(path_suffix)]

    def clear_requests(self) -> None:
        """Forget the request log."""
        with self._lock:
            self.requests.clear()

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and (fault.path is None or path.endswith(fault.path)):
                    fault.remaining -= 1
                    return fault
        return None

    # -- request handling ------------------------------------------------------------------------

    def _authenticate(self, header: str | None) -> str | None:
        """The Basic-auth user, None when there is no header.

        :raises _HTTPError: 401 for a malformed header or wrong credentials.
        """
        if header is None:
            return None
        scheme, _, encoded = header.partition(" ")
        try:
            if scheme.lower() != "basic":
                raise ValueError(scheme)
            username, _, password = base64.b64decode(encoded).decode().partition(":")
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise _HTTPError(HTTPStatus.UNAUTHORIZED, "Invalid authorization header") from None
        with self._lock:
            if self._webin_accounts.get(username) != password:
                raise _HTTPError(HTTPStatus.UNAUTHORIZED, "Invalid credentials")
        return username

    def _visible_filter(self, user: str | None) -> Callable[[str, Mapping[str, str]], bool] | None:
        """A predicate "may ``user`` see this record?", or None when every record is visible."""
        with self._lock:
            private = dict(self._private)
            is_datahub = self._datahub is not None and user == self._datahub[0]
        if not private or is_datahub:
            return None

        def visible(accession: str, record: Mapping[str, str]) -> bool:
            owner = private.get(accession)
            if owner is None:
                for name in STUDY_LINK_FIELDS:
                    value = record.get(name)
                    if value:
                        for study in _split(value):
                            owner = private.get(study)
                            if owner is not None:
                                break
                    if owner is not None:
                        break
            return owner is None or owner == user

        return visible

    def _select(
        self, params: Mapping[str, str], user: str | None, kind_result: str
    ) -> tuple[Kind, list[dict[str, str]]]:
        """The records a search/count selects (before field projection and limit)."""
        kind = RESULTS.get(kind_result)
        if kind is None:
            raise _HTTPError(HTTPStatus.BAD_REQUEST, f"Invalid result: {kind_result}")
        portal = params.get("dataPortal", "ena") or "ena"
        if portal not in PORTALS:
            raise _HTTPError(HTTPStatus.BAD_REQUEST, f"Invalid dataPortal: {portal}")
        include_metagenomes = params.get("includeMetagenomes", "false").lower() == "true"
        query_text = params.get("query", "")
        predicate = None
        if query_text.strip():
            try:
                predicate = compile_query(parse_query(query_text), KIND_FIELDS[kind])
            except QuerySyntaxError as error:
                raise _HTTPError(HTTPStatus.BAD_REQUEST, str(error)) from None
        include = set(_split(params.get("includeAccessions", ""), ","))
        exclude = set(_split(params.get("excludeAccessions", ""), ","))
        visible = self._visible_filter(user)
        with self._lock:
            records = list(self._records[kind].items())
            portals = self._portal
            with_reads = self._studies_with_reads if kind_result == "read_study" else None
            selected = []
            for accession, record in records:
                record_portal = portals[accession]
                if portal == METAGENOME:
                    if record_portal != METAGENOME:
                        continue
                elif record_portal == METAGENOME and not include_metagenomes:
                    continue
                if include and accession not in include:
                    continue
                if accession in exclude:
                    continue
                if with_reads is not None and accession not in with_reads:
                    continue
                if predicate is not None and not predicate(record):
                    continue
                if visible is not None and not visible(accession, record):
                    continue
                selected.append(record)
        if self._random is not None:
            with self._lock:
                self._random.shuffle(selected)
        return kind, selected

    def _fields(self, kind: Kind, params: Mapping[str, str]) -> list[str]:
        """The output columns: the accession first, then the requested fields."""
        requested = [name.strip() for name in params.get("fields", "").split(",") if name.strip()]
        unknown = [name for name in requested if name not in KIND_FIELDS[kind]]
        if unknown:
            raise _HTTPError(
                HTTPStatus.BAD_REQUEST, f"Invalid fieldName(s) supplied: {','.join(unknown)}"
            )
        accession_field = ACCESSION_FIELD[kind]
        return [
            accession_field,
            *(name for name in dict.fromkeys(requested) if name != accession_field),
        ]

    @staticmethod
    def _limit(params: Mapping[str, str]) -> int | None:
        if "limit" not in params:
            return DEFAULT_LIMIT
        text = params["limit"].strip()
        if text in ("", "0"):
            return None
        if not text.isdigit():
            raise _HTTPError(HTTPStatus.BAD_REQUEST, f"Invalid limit: {text}")
        return int(text)

    @staticmethod
    def _format(params: Mapping[str, str]) -> str:
        value = params.get("format", "tsv") or "tsv"
        if value not in ("tsv", "json"):
            raise _HTTPError(HTTPStatus.BAD_REQUEST, f"Invalid format: {value}")
        return value

    def _rows_answer(
        self, kind: Kind, records: list[dict[str, str]], params: Mapping[str, str]
    ) -> _Answer:
        columns = self._fields(kind, params)
        limit = self._limit(params)
        if limit is not None:
            records = records[:limit]
        if self._format(params) == "json":
            rows = [{name: record.get(name, "") for name in columns} for record in records]
            return _json_answer(rows)
        lines = ["\t".join(columns)]
        lines.extend("\t".join(record.get(name, "") for name in columns) for record in records)
        body = ("\n".join(lines) + "\n").encode() if records else b""
        return _Answer(HTTPStatus.OK, body, "text/plain", {})

    def _search(self, params: Mapping[str, str], user: str | None) -> _Answer:
        if "result" not in params:
            raise _HTTPError(HTTPStatus.BAD_REQUEST, "Missing result")
        kind, records = self._select(params, user, params["result"])
        return self._rows_answer(kind, records, params)

    def _count(self, params: Mapping[str, str], user: str | None) -> _Answer:
        if "result" not in params:
            raise _HTTPError(HTTPStatus.BAD_REQUEST, "Missing result")
        _, records = self._select(params, user, params["result"])
        if self._format(params) == "json":
            return _json_answer({"count": len(records)})
        return _Answer(HTTPStatus.OK, f"count\n{len(records)}\n".encode(), "text/plain", {})

    def _filereport(self, params: Mapping[str, str], user: str | None) -> _Answer:
        accession = params.get("accession", "")
        result = params.get("result", "")
        if not accession:
            raise _HTTPError(HTTPStatus.BAD_REQUEST, "Missing accession")
        if result not in ("read_run", "analysis"):
            raise _HTTPError(HTTPStatus.BAD_REQUEST, f"Invalid result: {result}")
        kind = RESULTS[result]
        link_fields = (
            ACCESSION_FIELD[kind], "study_accession", "secondary_study_accession",
            "sample_accession", "secondary_sample_accession", "experiment_accession",
        )  # fmt: skip
        visible = self._visible_filter(user)
        with self._lock:
            records = [
                record
                for record_accession, record in self._records[kind].items()
                if any(accession in _split(record.get(name, "")) for name in link_fields)
                and (visible is None or visible(record_accession, record))
            ]
        return self._rows_answer(kind, records, {**params, "limit": params.get("limit", "0")})

    def _return_fields(self, params: Mapping[str, str]) -> _Answer:
        kind = RESULTS.get(params.get("result", ""))
        if kind is None:
            raise _HTTPError(HTTPStatus.BAD_REQUEST, f"Invalid result: {params.get('result', '')}")
        return _json_answer(
            [{"columnId": name, "description": ""} for name in sorted(KIND_FIELDS[kind])]
        )

    def _webin_token(self, body: bytes) -> _Answer:
        try:
            payload = json.loads(body or b"{}")
            username, password = payload["username"], payload["password"]
            realms = payload.get("authRealms", [])
        except (ValueError, KeyError, TypeError):
            raise _HTTPError(
                HTTPStatus.BAD_REQUEST, "Expected JSON with username and password"
            ) from None
        with self._lock:
            good = "ENA" in realms and self._webin_accounts.get(username) == password
        if not good:
            raise _HTTPError(HTTPStatus.UNAUTHORIZED, "Invalid credentials")
        token = f"fake-webin-token.{username}.{secrets.token_hex(16)}"
        return _Answer(HTTPStatus.OK, token.encode(), "text/plain", {})

    def handle(
        self, method: str, path: str, params: dict[str, str], auth_header: str | None, body: bytes
    ) -> _Answer:
        """Answer one request (called by the HTTP handler thread)."""
        user: str | None = None
        try:
            if path.rstrip("/") == WEBIN_AUTH_PATH:
                self._log(path, params, None)
                if method != "POST":
                    raise _HTTPError(HTTPStatus.METHOD_NOT_ALLOWED, "Use POST")
                fault = self._take_fault(path)
                if fault is not None:
                    return self._fault_answer(fault, lambda: self._webin_token(body))
                return self._webin_token(body)
            try:
                user = self._authenticate(auth_header)
            finally:
                self._log(path, params, user)
            if not path.startswith(PORTAL_API_PATH + "/"):
                raise _HTTPError(HTTPStatus.NOT_FOUND, f"No endpoint {path}")
            endpoint = path[len(PORTAL_API_PATH) :].rstrip("/")
            handlers = {
                "/search": lambda: self._search(params, user),
                "/count": lambda: self._count(params, user),
                "/filereport": lambda: self._filereport(params, user),
                "/returnFields": lambda: self._return_fields(params),
            }
            handler = handlers.get(endpoint)
            if handler is None:
                raise _HTTPError(HTTPStatus.NOT_FOUND, f"No endpoint {path}")
            unsupported = sorted(set(params) - KNOWN_PARAMS)
            if unsupported:
                raise _HTTPError(HTTPStatus.BAD_REQUEST, f"Unsupported param {unsupported[0]}")
            fault = self._take_fault(path)
            if fault is not None:
                return self._fault_answer(fault, handler)
            return handler()
        except _HTTPError as error:
            return _json_answer({"message": error.message}, error.status)

    def _log(self, path: str, params: dict[str, str], user: str | None) -> None:
        with self._lock:
            self.requests.append(LoggedRequest(path, dict(params), user))

    @staticmethod
    def _fault_answer(fault: Fault, answer: Callable[[], _Answer]) -> _Answer:
        match fault.mode:
            case FaultMode.HTTP_500:
                return _json_answer(
                    {"message": "Internal Server Error"}, HTTPStatus.INTERNAL_SERVER_ERROR
                )
            case FaultMode.HTTP_503:
                body = b"<html><body><h1>503 Service Unavailable</h1></body></html>"
                return _Answer(HTTPStatus.SERVICE_UNAVAILABLE, body, "text/html", {})
            case FaultMode.HTTP_429:
                result = _json_answer(
                    {"message": "Too Many Requests"}, HTTPStatus.TOO_MANY_REQUESTS
                )
                result.headers["Retry-After"] = f"{fault.retry_after:g}"
                return result
            case FaultMode.SLOW:
                time.sleep(fault.delay)
                return answer()
            case FaultMode.TRUNCATED_JSON:
                full = answer()
                cut = max(1, len(full.body) // 2) if len(full.body) > 1 else 0
                # "[]" cut to "[" is still invalid JSON; an empty body would mean "no rows".
                full.body = full.body[:cut] if cut else b"["
                return full
            case FaultMode.NO_CONTENT_204:
                return _Answer(HTTPStatus.NO_CONTENT, b"", "text/plain", {})
            case FaultMode.HTTP_400:
                return _json_answer({"message": fault.message}, HTTPStatus.BAD_REQUEST)
        raise AssertionError(f"unhandled fault {fault.mode}")  # pragma: no cover


def _split(value: str, separator: str = ";") -> list[str]:
    return [part.strip() for part in value.split(separator) if part.strip()] if value else []


def _make_handler(fake: FakeENA) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # Keep-alive, so clients' connection reuse is exercised.
        protocol_version = "HTTP/1.1"
        server_version = "FakeENA/1.0"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            logger.debug("%s - %s", self.address_string(), format % args)

        def _params(self, body: bytes) -> dict[str, str]:
            query = urlsplit(self.path).query
            params = {
                key: values[-1] for key, values in parse_qs(query, keep_blank_values=True).items()
            }
            content_type = self.headers.get("Content-Type", "")
            if body and content_type.startswith("application/x-www-form-urlencoded"):
                form = parse_qs(body.decode(), keep_blank_values=True)
                params.update({key: values[-1] for key, values in form.items()})
            return params

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            answer = fake.handle(
                method,
                urlsplit(self.path).path,
                self._params(body),
                self.headers.get("Authorization"),
                body,
            )
            try:
                self.send_response(answer.status)
                if answer.status != HTTPStatus.NO_CONTENT:
                    self.send_header("Content-Type", answer.content_type)
                    self.send_header("Content-Length", str(len(answer.body)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if answer.body and answer.status != HTTPStatus.NO_CONTENT:
                    self.wfile.write(answer.body)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (e.g. its time-out during a "slow" fault): nothing to answer.
                logger.debug("client of %s went away before the answer", self.path)
                self.close_connection = True

        def do_GET(self) -> None:  # noqa: N802
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

    return Handler
