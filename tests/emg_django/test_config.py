"""EMGConfig: env prefix, nesting, defaults, and errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from emg_django.config import ConfigError, SlurmTransport, load_config


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    import os

    for name in list(os.environ):
        if name.startswith("EMG_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_defaults_make_a_laptop_run(clean_env: pytest.MonkeyPatch) -> None:
    config = load_config()
    assert config.database.url.startswith("sqlite:///")
    assert config.slurm.transport is SlurmTransport.EMBEDDED
    assert str(config.ena.portal_api_url) == "https://www.ebi.ac.uk/ena/portal/api"
    assert config.webin.datahub_password is None
    assert config.api.prefix == "api/v2/"


def test_nested_variables_override(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("EMG_DATABASE__URL", "postgresql://u@db:5432/emg")
    clean_env.setenv("EMG_SLURM__TRANSPORT", "ssh")
    clean_env.setenv("EMG_SLURM__SSH_KNOWN_HOSTS_PATH", "/etc/emg/known_hosts")
    clean_env.setenv("EMG_PIPELINES__AMPLICON__CHUNK_SIZE", "7")
    clean_env.setenv("EMG_API__PREFIX", "/metagenomics/api/v2")
    clean_env.setenv("EMG_WEBIN__DATAHUB_PASSWORD", "s3cret")
    config = load_config()
    assert config.database.url == "postgresql://u@db:5432/emg"
    assert config.slurm.transport is SlurmTransport.SSH
    assert config.slurm.ssh_known_hosts_path == Path("/etc/emg/known_hosts")
    assert config.pipelines.amplicon.chunk_size == 7
    assert config.pipelines.amplicon.repository == "ebi-metagenomics/amplicon-pipeline"
    assert config.api.prefix == "metagenomics/api/v2/"
    assert config.webin.datahub_password is not None
    assert "s3cret" not in repr(config)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("EMG_SLURM__TRANSPORT", "carrier-pigeon"),
        ("EMG_DATABASE__URL", "mysql://root@localhost/emg"),
        ("EMG_ENA__MAX_REQUESTS_PER_SECOND", "80"),
        ("EMG_PIPELINES__RAWREADS__CHUNK_SIZE", "zero"),
    ],
)
def test_invalid_values_name_the_variable(
    clean_env: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    clean_env.setenv(variable, value)
    with pytest.raises(ConfigError, match=variable):
        load_config()


@pytest.mark.parametrize(
    "public, private",
    [("/srv/results", "/srv/results"), ("/srv/results", "/srv/results/private"),
     ("/srv/results/public", "/srv/results")],
)  # fmt: skip
def test_results_roots_are_separate(public: str, private: str) -> None:
    from emg_django.config import ResultsConfig

    with pytest.raises(ValueError, match="separate dirs"):
        ResultsConfig(public_dir=Path(public), private_dir=Path(private))
    assert ResultsConfig(public_dir=Path("/srv/pub"), private_dir=Path("/srv/priv"))
