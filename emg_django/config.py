"""The platform's configuration: the only place settings are read from the environment.

Every value comes from an ``EMG_``-prefixed environment variable, nested with ``__``
(``EMG_DATABASE__URL``, ``EMG_ENA__PORTAL_API_URL``, ``EMG_SLURM__TRANSPORT``...). Defaults make a
laptop run work: SQLite, the embedded (no-Slurm) executor and the real ENA URLs. Secrets
(passwords, signing keys) have no defaults that could reach production: they come from the
environment only.
"""

from __future__ import annotations

import datetime as dt
import enum
from functools import lru_cache
from pathlib import Path

from pydantic import (
    BaseModel,
    Field,
    HttpUrl,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The repository root: the default home of the embedded SQLite database and results.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Runtime state of the embedded defaults (SQLite files, results, Dagster home).
VAR_DIR = PROJECT_ROOT / "var"

ENV_PREFIX = "EMG_"
ENV_NESTED_DELIMITER = "__"


class SlurmTransport(enum.StrEnum):
    """How the Slurm resource reaches the cluster."""

    #: ``paramiko`` over SSH to a login node.
    SSH = "ssh"
    #: Slurm commands on this host.
    LOCAL = "local"
    #: No Slurm: the job script runs as a local subprocess (the laptop default).
    EMBEDDED = "embedded"


class DatabaseConfig(BaseModel):
    """The Django database (the tables the assets write and the API serves)."""

    url: str = Field(
        default=f"sqlite:///{VAR_DIR / 'emg.sqlite3'}",
        description="Database URL, e.g. postgresql://user@127.0.0.1:5432/emg or sqlite:///path.",
    )
    conn_max_age: int = Field(default=60, ge=0, description="Seconds a connection is reused.")

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        scheme = value.split(":", 1)[0]
        if scheme not in {"sqlite", "postgres", "postgresql", "postgresql+psycopg2", "pgsql"}:
            raise ValueError(
                f"unsupported database scheme {scheme!r} (use postgresql:// or sqlite://)"
            )
        return value


class ENAConfig(BaseModel):
    """ENA's public APIs."""

    portal_api_url: HttpUrl = Field(
        default=HttpUrl("https://www.ebi.ac.uk/ena/portal/api"),
        description="Base of the ENA Portal API (…/ena/portal/api).",
    )
    browser_api_url: HttpUrl = Field(
        default=HttpUrl("https://www.ebi.ac.uk/ena/browser/api"),
        description="Base of the ENA Browser API (…/ena/browser/api).",
    )
    timeout_seconds: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=5, ge=0)
    #: ENA publishes 50 requests/s as its limit; never configure above it.
    max_requests_per_second: float = Field(default=20.0, gt=0, le=50)


class WebinConfig(BaseModel):
    """Webin: the login of private-data owners, and the data-hub account for private metadata."""

    auth_url: HttpUrl = Field(
        default=HttpUrl("https://www.ebi.ac.uk/ena/submit/webin/auth/token"),
        description="ENA's Webin token endpoint, used to check a user's Webin credentials.",
    )
    datahub_username: str | None = Field(default=None, description="Webin data-hub account.")
    datahub_password: SecretStr | None = Field(default=None, description="Its password (env only).")
    timeout_seconds: float = Field(default=20.0, gt=0)


class SlurmConfig(BaseModel):
    """The cluster the analysis pipelines run on."""

    transport: SlurmTransport = SlurmTransport.EMBEDDED
    ssh_host: str = "127.0.0.1"
    ssh_port: int = Field(default=22, gt=0, lt=65536)
    ssh_user: str | None = None
    ssh_key_path: Path | None = None
    ssh_known_hosts_path: Path | None = Field(
        default=None, description="known_hosts with the login node's host key (never auto-added)."
    )
    slurm_conf: Path | None = Field(default=None, description="SLURM_CONF for the local transport.")
    partition: str = "debug"
    datamover_partition: str = "datamover"
    account: str | None = None
    max_incomplete_jobs: int = Field(default=100, ge=1)
    poll_interval_seconds: float = Field(default=10.0, gt=0)
    work_dir: Path = Field(default=VAR_DIR / "slurm-work", description="Job scripts and logs.")


class PipelineConfig(BaseModel):
    """One Nextflow pipeline."""

    repository: str
    revision: str
    profile: str = "codon_slurm"
    config_file: Path | None = None
    chunk_size: int = Field(default=50, ge=1)
    time_limit_minutes: int = Field(default=3 * 24 * 60, ge=1)
    memory_gb: int = Field(default=16, ge=1)
    cpus: int = Field(default=1, ge=1)


# One class per pipeline so that an env variable overriding one field keeps the other defaults.
class AmpliconPipelineConfig(PipelineConfig):
    repository: str = "ebi-metagenomics/amplicon-pipeline"
    revision: str = "v6.0.4"


class RawReadsPipelineConfig(PipelineConfig):
    repository: str = "ebi-metagenomics/raw-reads-analysis-pipeline"
    revision: str = "v6.0.1"


class AssemblyPipelineConfig(PipelineConfig):
    repository: str = "ebi-metagenomics/assembly-analysis-pipeline"
    revision: str = "v6.0.0"
    chunk_size: int = Field(default=10, ge=1)


class PipelinesConfig(BaseModel):
    """The MGnify analysis pipelines."""

    amplicon: AmpliconPipelineConfig = AmpliconPipelineConfig()
    rawreads: RawReadsPipelineConfig = RawReadsPipelineConfig()
    assembly: AssemblyPipelineConfig = AssemblyPipelineConfig()
    nextflow_executable: str = "nextflow"


class ResultsConfig(BaseModel):
    """Where analysis results live and how they are published."""

    work_dir: Path = Field(default=VAR_DIR / "results-work", description="Pipeline outdirs.")
    public_dir: Path = Field(default=VAR_DIR / "results" / "public")
    private_dir: Path = Field(default=VAR_DIR / "results" / "private")
    public_url: str = Field(
        default="http://127.0.0.1:8000/results",
        description="URL prefix under which public_dir is served; download URLs start with it.",
    )
    private_accel_redirect: str | None = Field(
        default=None,
        description="Internal URL prefix under which the front web server (nginx `internal` "
        "location) serves private_dir: the API checks the caller, then hands a private "
        "download over with X-Accel-Redirect. Unset: the API streams the file itself.",
    )

    @field_validator("private_accel_redirect")
    @classmethod
    def _internal_prefix(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith("/"):
            raise ValueError("an internal URL path, starting with '/' (e.g. /private-results/)")
        return value.rstrip("/") + "/"

    @model_validator(mode="after")
    def _separate_roots(self) -> ResultsConfig:
        # One inside the other would publish private files on the results host, and the same
        # dir twice would make a privacy move delete what it moves.
        public, private = self.public_dir.resolve(), self.private_dir.resolve()
        if public == private or public in private.parents or private in public.parents:
            raise ValueError(
                f"public_dir ({self.public_dir}) and private_dir ({self.private_dir}) must be "
                "separate dirs, neither inside the other"
            )
        work = self.work_dir.resolve()
        if work == public or public in work.parents:
            # Unpublished outputs of private studies would be on the results host.
            raise ValueError(f"work_dir ({self.work_dir}) must not be inside public_dir")
        return self


class APIConfig(BaseModel):
    """The public JSON API."""

    prefix: str = Field(default="api/v2/", description="Mount point of the v2 API.")
    jwt_secret: SecretStr | None = Field(
        default=None, description="Signs Webin login tokens (env only; required unless debug)."
    )
    jwt_ttl_minutes: int = Field(default=60 * 12, ge=1)
    default_page_size: int = Field(default=25, ge=1)
    max_page_size: int = Field(default=250, ge=1)

    @field_validator("prefix")
    @classmethod
    def _normalise_prefix(cls, value: str) -> str:
        value = value.strip("/")
        return f"{value}/" if value else ""


class DjangoConfig(BaseModel):
    """The Django process itself."""

    secret_key: SecretStr | None = Field(default=None, description="Required unless debug.")
    debug: bool = False
    allowed_hosts: list[str] = ["127.0.0.1", "localhost"]
    behind_tls_proxy: bool = Field(
        default=False,
        description="Behind a proxy that ends TLS and sets X-Forwarded-Proto (an ingress): "
        "absolute URLs the API builds (private downloads) then start with https.",
    )


class DagsterConfig(BaseModel):
    """How Django reaches Dagster (admin/API actions launch runs through its GraphQL API)."""

    webserver_url: str = Field(
        default="http://127.0.0.1:3000", description="GraphQL is at /graphql."
    )
    public_url: str | None = Field(
        default=None, description="The Dagster UI as people reach it (links in notifications)."
    )
    location_name: str = Field(
        default="emg_assets", description="The code location in workspace.yaml."
    )
    timeout_seconds: float = Field(default=15.0, gt=0)


class NotificationsConfig(BaseModel):
    """Where run failures are reported."""

    slack_webhook_url: SecretStr | None = Field(
        default=None,
        description="Slack incoming-webhook URL (env only); notifications are off when unset.",
    )
    timeout_seconds: float = Field(default=10.0, gt=0)


class SensorsConfig(BaseModel):
    """The Dagster sensors that watch ENA."""

    new_studies_running: bool = Field(
        default=False, description="Start the new-ENA-studies sensor with the deployment."
    )
    new_studies_start_date: dt.date = Field(
        default=dt.date(2025, 1, 1), description="First date the new-studies sensor looks from."
    )
    new_studies_library_strategies: list[str] | None = Field(
        default=None,
        description='Only studies with runs of these strategies, e.g. ["AMPLICON","WGS"].',
    )
    new_studies_interval_seconds: int = Field(default=3600, ge=30)
    #: A tick turns run requests into queued runs at ~240 ms each: cap it under the 60 s timeout.
    max_run_requests_per_tick: int = Field(default=200, ge=1, le=1000)
    sync_running: bool = Field(default=False, description="Start the ENA sync sensor.")
    sync_interval_seconds: int = Field(default=6 * 3600, ge=60)
    sync_studies_per_tick: int = Field(default=500, ge=1)


class EMGConfig(BaseSettings):
    """All of the platform's settings, read once from ``EMG_*`` environment variables."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        extra="ignore",
        case_sensitive=False,
    )

    django: DjangoConfig = DjangoConfig()
    database: DatabaseConfig = DatabaseConfig()
    ena: ENAConfig = ENAConfig()
    webin: WebinConfig = WebinConfig()
    slurm: SlurmConfig = SlurmConfig()
    pipelines: PipelinesConfig = PipelinesConfig()
    results: ResultsConfig = ResultsConfig()
    api: APIConfig = APIConfig()
    dagster: DagsterConfig = DagsterConfig()
    sensors: SensorsConfig = SensorsConfig()
    notifications: NotificationsConfig = NotificationsConfig()


class ConfigError(RuntimeError):
    """The environment holds an invalid setting; the message names the variable."""


def _variable_name(location: tuple[int | str, ...]) -> str:
    return ENV_PREFIX + ENV_NESTED_DELIMITER.join(str(part).upper() for part in location)


def load_config() -> EMGConfig:
    """Read the configuration from the environment.

    :raises ConfigError: naming each invalid variable and why it is invalid.
    """
    try:
        return EMGConfig()
    except ValidationError as exc:
        problems = "; ".join(
            f"{_variable_name(error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from exc


@lru_cache(maxsize=1)
def get_config() -> EMGConfig:
    """The process-wide configuration (read once)."""
    return load_config()
