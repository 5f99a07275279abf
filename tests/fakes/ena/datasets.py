"""Data for the fake ENA: realistic records and generated studies of any size (TEST FIXTURES).

:func:`seed_realistic` holds the real examples of ENA.md (Guaymas Basin PRJNA362212/SRP125161,
HoloFood salmon PRJEB41657/ERP125469 with runs ERR4918394/7/8 and assembly ERZ2626953, sample
SAMEA7687881) plus synthetic studies for the cases those do not cover (amplicon, single-end,
metatranscriptomic, private, co-assembly, ena-portal only). Synthetic accessions are in the
900000+ ranges, so they are easy to tell from the real ones. Values the documentation does not
give (md5s, sizes, some titles) are made up but shaped like ENA's.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from tests.fakes.ena.schema import Kind
from tests.fakes.ena.server import FakeENA

#: The data-hub account of the fixtures (sees every private record).
DATAHUB_USERNAME = "dcc_fake_datahub"
DATAHUB_PASSWORD = "fake-datahub-password"
#: The Webin account owning the private fixture study.
PRIVATE_OWNER_USERNAME = "Webin-900003"
PRIVATE_OWNER_PASSWORD = "fake-owner-password"

GUAYMAS_STUDY = "PRJNA362212"
GUAYMAS_SECONDARY = "SRP125161"
HOLOFOOD_STUDY = "PRJEB41657"
HOLOFOOD_SECONDARY = "ERP125469"
AMPLICON_STUDY = "PRJEB900001"
AMPLICON_SECONDARY = "ERP900001"
METATRANSCRIPTOME_STUDY = "PRJEB900002"
METATRANSCRIPTOME_SECONDARY = "ERP900002"
PRIVATE_STUDY = "PRJEB900003"
PRIVATE_SECONDARY = "ERP900003"
ENA_PORTAL_STUDY = "PRJEB900004"
ENA_PORTAL_SECONDARY = "ERP900004"
#: A study with two secondary accessions (ENA.md: ``SRP000903;SRP001212``).
MULTI_SECONDARY_STUDY = "PRJNA900005"
MULTI_SECONDARY_ACCESSIONS = "SRP000903;SRP001212"

FASTQ_HOST = "ftp.sra.ebi.ac.uk/vol1/fastq"
ANALYSIS_HOST = "ftp.sra.ebi.ac.uk/vol1/sequence"


def fastq_dir(run_accession: str) -> str:
    """ENA's fastq directory of a run: ``vol1/fastq/ERR491/004/ERR4918394``."""
    prefix = run_accession[:6]
    if len(run_accession) <= 9:
        return f"{FASTQ_HOST}/{prefix}/{run_accession}"
    return f"{FASTQ_HOST}/{prefix}/{run_accession[9:].zfill(3)}/{run_accession}"


def fastq_fields(run_accession: str, layout: str, rng: random.Random) -> dict[str, str]:
    """Consistent ``fastq_ftp``/``fastq_md5``/``fastq_bytes`` for a run (PAIRED: 2 files)."""
    base = f"{fastq_dir(run_accession)}/{run_accession}"
    names = (
        [f"{base}_1.fastq.gz", f"{base}_2.fastq.gz"] if layout == "PAIRED" else [f"{base}.fastq.gz"]
    )
    return {
        "fastq_ftp": ";".join(names),
        "fastq_md5": ";".join(f"{rng.getrandbits(128):032x}" for _ in names),
        "fastq_bytes": ";".join(str(rng.randint(50_000_000, 5_000_000_000)) for _ in names),
    }


def seed_realistic(fake: FakeENA) -> None:
    """Load the realistic fixture data set (see the module docstring)."""
    rng = random.Random(20240101)
    fake.set_datahub_account(DATAHUB_USERNAME, DATAHUB_PASSWORD)
    fake.add_webin_account(PRIVATE_OWNER_USERNAME, PRIVATE_OWNER_PASSWORD)

    # Guaymas Basin (NCBI submission mirrored by ENA; the run as ENA.md shows it).
    fake.add_study(
        {
            "study_accession": GUAYMAS_STUDY,
            "secondary_study_accession": GUAYMAS_SECONDARY,
            "study_title": "Guaymas Basin hydrothermal sediment metagenomes",
            "study_description": "Metagenomes of hydrothermally influenced sediment cores, "
            "Guaymas Basin, Gulf of California.",
            "center_name": "University of North Carolina at Chapel Hill",
            "first_public": "2017-11-22",
            "last_updated": "2019-03-11",
            "tax_id": "412755",
            "scientific_name": "marine sediment metagenome",
            "status": "public",
        }
    )
    fake.add_sample(
        {
            "sample_accession": "SAMN06251743",
            "secondary_sample_accession": "SRS2696342",
            "sample_title": "Metagenome from Guaymas Basin sediment dive 4484 depth 3-4cm",
            "lat": "27.0075",
            "lon": "-111.4066",
            "location": "27.0075 N 111.4066 W",
            "collection_date": "2016-12",
            "country": "Mexico: Guaymas Basin",
            "depth": "0.035",
            "environment_biome": "marine biome",
            "tax_id": "412755",
            "scientific_name": "marine sediment metagenome",
            "study_accession": GUAYMAS_STUDY,
            "secondary_study_accession": GUAYMAS_SECONDARY,
            "first_public": "2017-11-22",
        }
    )
    fake.add_run(
        {
            "run_accession": "SRR6301444",
            "experiment_accession": "SRX3389447",
            "sample_accession": "SAMN06251743",
            "secondary_sample_accession": "SRS2696342",
            "study_accession": GUAYMAS_STUDY,
            "secondary_study_accession": GUAYMAS_SECONDARY,
            "library_source": "METAGENOMIC",
            "library_strategy": "WGS",
            "library_layout": "PAIRED",
            "library_selection": "RANDOM",
            "instrument_platform": "ILLUMINA",
            "instrument_model": "Illumina HiSeq 2500",
            "read_count": "260375006",
            "base_count": "65506757180",
            "library_name": "4484_3-4cm",
            "sample_title": "Metagenome from Guaymas Basin sediment dive 4484 depth 3-4cm",
            "first_public": "",
            "tax_id": "412755",
            "scientific_name": "marine sediment metagenome",
            **fastq_fields("SRR6301444", "PAIRED", rng),
        }
    )

    # HoloFood salmon gut (ENA.md's runs, samples and assembly).
    fake.add_study(
        {
            "study_accession": HOLOFOOD_STUDY,
            "secondary_study_accession": HOLOFOOD_SECONDARY,
            "study_title": "HoloFood Salmon - Metagenomic DNA",
            "study_description": "Shotgun metagenomes of Atlantic salmon gut content (HoloFood).",
            "center_name": "EMG",
            "first_public": "2021-01-06",
            "last_updated": "2022-05-17",
            "tax_id": "1602388",
            "scientific_name": "fish gut metagenome",
            "status": "public",
        }
    )
    holofood_samples = {
        "SAMEA7687881": ("2019-06-11", "66.079905 N 12.587848 E", "66.079905", "12.587848"),
        "SAMEA7687882": ("2019-06-11", "66.079905 N 12.587848 E", "66.079905", "12.587848"),
        "SAMEA7678309": ("2019-09-25", "66.079905 N 12.587848 E", "66.079905", "12.587848"),
    }
    for number, (sample, (collected, location, lat, lon)) in enumerate(holofood_samples.items()):
        fake.add_sample(
            {
                "sample_accession": sample,
                "secondary_sample_accession": f"ERS54{number:05d}",
                "sample_title": f"HoloFood salmon gut content {sample}",
                "collection_date": collected,
                "country": "Norway",
                "location": location,
                "lat": lat,
                "lon": lon,
                "host": "Salmo salar",
                "host_tax_id": "8030",
                "tax_id": "1602388",
                "scientific_name": "fish gut metagenome",
                "checklist": "ERC000052",
                "study_accession": HOLOFOOD_STUDY,
                "secondary_study_accession": HOLOFOOD_SECONDARY,
                "first_public": "2021-01-06",
            }
        )
    for run, sample in (
        ("ERR4918394", "SAMEA7687881"),
        ("ERR4918397", "SAMEA7687882"),
        ("ERR4918398", "SAMEA7678309"),
    ):
        fake.add_run(
            {
                "run_accession": run,
                "experiment_accession": "ERX" + run[3:],
                "sample_accession": sample,
                "study_accession": HOLOFOOD_STUDY,
                "secondary_study_accession": HOLOFOOD_SECONDARY,
                "library_source": "METAGENOMIC",
                "library_strategy": "WGS",
                "library_layout": "PAIRED",
                "library_selection": "RANDOM",
                "instrument_platform": "BGISEQ",
                "instrument_model": "DNBSEQ-G400",
                "read_count": str(rng.randint(20_000_000, 60_000_000)),
                "base_count": str(rng.randint(3_000_000_000, 9_000_000_000)),
                "first_public": "2021-01-06",
                "last_updated": "2021-01-06",
                "tax_id": "1602388",
                "scientific_name": "fish gut metagenome",
                "host_tax_id": "8030",
                "collection_date": holofood_samples[sample][0],
                "country": "Norway",
                **fastq_fields(run, "PAIRED", rng),
            }
        )
    fake.add_assembly(
        {
            "analysis_accession": "ERZ2626953",
            "analysis_type": "SEQUENCE_ASSEMBLY",
            "assembly_type": "primary metagenome",
            "generated_ftp": f"{ANALYSIS_HOST}/ERZ262/ERZ2626953/contig.fa.gz",
            "generated_md5": f"{rng.getrandbits(128):032x}",
            "run_accession": "ERR4918394",
            "sample_accession": "SAMEA7687881",
            "study_accession": HOLOFOOD_STUDY,
            "secondary_study_accession": HOLOFOOD_SECONDARY,
            "assembly_software": "MEGAHIT v1.2.9",
            "first_public": "2021-02-10",
        }
    )
    # A co-assembly (synthetic accession): two runs, two samples.
    fake.add_assembly(
        {
            "analysis_accession": "ERZ9000001",
            "analysis_type": "SEQUENCE_ASSEMBLY",
            "assembly_type": "primary metagenome",
            "generated_ftp": f"{ANALYSIS_HOST}/ERZ900/ERZ9000001/contig.fa.gz",
            "generated_md5": f"{rng.getrandbits(128):032x}",
            "run_accession": "ERR4918397;ERR4918398",
            "sample_accession": "SAMEA7687882;SAMEA7678309",
            "study_accession": HOLOFOOD_STUDY,
            "secondary_study_accession": HOLOFOOD_SECONDARY,
            "assembly_software": "metaSPAdes v3.15.3",
            "completeness_score": "",
            "first_public": "2021-03-01",
        }
    )
    # A binned assembly (MAG), which get_assemblies must not return.
    fake.add_assembly(
        {
            "analysis_accession": "ERZ9000002",
            "analysis_type": "SEQUENCE_ASSEMBLY",
            "assembly_type": "Metagenome-Assembled Genome (MAG)",
            "run_accession": "ERR4918394",
            "study_accession": HOLOFOOD_STUDY,
            "secondary_study_accession": HOLOFOOD_SECONDARY,
            "completeness_score": "97.3",
            "contamination_score": "0.8",
            "first_public": "2021-04-01",
        }
    )

    _synthetic_study(
        fake, rng, AMPLICON_STUDY, AMPLICON_SECONDARY, "Soil 16S rRNA amplicon survey (synthetic)",
        "410658", "soil metagenome", strategy="AMPLICON", source="METAGENOMIC", layout="SINGLE",
        platform="LS454", model="454 GS FLX Titanium", selection="PCR", runs=2,
        first_public="2023-05-02",
    )  # fmt: skip
    _synthetic_study(
        fake, rng, METATRANSCRIPTOME_STUDY, METATRANSCRIPTOME_SECONDARY,
        "Marine microbial metatranscriptomes (synthetic)", "1504969", "marine metagenome",
        strategy="RNA-Seq", source="METATRANSCRIPTOMIC", layout="PAIRED", platform="ILLUMINA",
        model="Illumina NovaSeq 6000", selection="cDNA", runs=1, first_public="2024-02-14",
    )  # fmt: skip
    _synthetic_study(
        fake, rng, PRIVATE_STUDY, PRIVATE_SECONDARY, "Embargoed gut metagenomes (synthetic)",
        "749906", "gut metagenome", strategy="WGS", source="METAGENOMIC", layout="PAIRED",
        platform="ILLUMINA", model="Illumina NovaSeq 6000", selection="RANDOM", runs=1,
        first_public="",
    )  # fmt: skip
    fake.set_private(PRIVATE_STUDY, PRIVATE_OWNER_USERNAME)
    _synthetic_study(
        fake, rng, ENA_PORTAL_STUDY, ENA_PORTAL_SECONDARY,
        "Isolate genome sequencing (synthetic, ena portal only)", "562", "Escherichia coli",
        strategy="WGS", source="GENOMIC", layout="PAIRED", platform="ILLUMINA",
        model="Illumina MiSeq", selection="RANDOM", runs=1, first_public="2022-08-30",
        portal="ena",
    )  # fmt: skip
    _synthetic_study(
        fake, rng, MULTI_SECONDARY_STUDY, MULTI_SECONDARY_ACCESSIONS,
        "Human gut metagenomes with two SRA studies (synthetic)", "408170",
        "human gut metagenome", strategy="WGS", source="METAGENOMIC", layout="PAIRED",
        platform="ILLUMINA", model="Illumina HiSeq 2000", selection="RANDOM", runs=1,
        first_public="2012-06-13",
    )  # fmt: skip


def _synthetic_study(
    fake: FakeENA,
    rng: random.Random,
    accession: str,
    secondary: str,
    title: str,
    tax_id: str,
    scientific_name: str,
    *,
    strategy: str,
    source: str,
    layout: str,
    platform: str,
    model: str,
    selection: str,
    runs: int,
    first_public: str,
    portal: str = "metagenome",
) -> None:
    fake.add_study(
        {
            "study_accession": accession,
            "secondary_study_accession": secondary,
            "study_title": title,
            "center_name": "SYNTHETIC",
            "first_public": first_public,
            "last_updated": first_public,
            "tax_id": tax_id,
            "scientific_name": scientific_name,
        },
        portal=portal,
    )
    digits = accession[-6:]
    for index in range(runs):
        sample = f"SAMEA9{digits}{index}"
        run = f"ERR9{digits}{index}"
        fake.add_sample(
            {
                "sample_accession": sample,
                "sample_title": f"{title} sample {index + 1}",
                "tax_id": tax_id,
                "scientific_name": scientific_name,
                "collection_date": "2022-07-01",
                "study_accession": accession,
                "secondary_study_accession": secondary,
                "first_public": first_public,
            }
        )
        fake.add_run(
            {
                "run_accession": run,
                "experiment_accession": f"ERX9{digits}{index}",
                "sample_accession": sample,
                "study_accession": accession,
                "secondary_study_accession": secondary,
                "library_strategy": strategy,
                "library_source": source,
                "library_layout": layout,
                "library_selection": selection,
                "instrument_platform": platform,
                "instrument_model": model,
                "read_count": str(rng.randint(100_000, 50_000_000)),
                "base_count": str(rng.randint(10_000_000, 9_000_000_000)),
                "first_public": first_public,
                "last_updated": first_public,
                "tax_id": tax_id,
                "scientific_name": scientific_name,
                **fastq_fields(run, layout, rng),
            }
        )


@dataclass
class GeneratedStudy:
    """Accessions of a generated study."""

    accession: str
    secondary_accession: str
    sample_accessions: list[str] = field(default_factory=list)
    run_accessions: list[str] = field(default_factory=list)


def generate_study(
    fake: FakeENA,
    accession: str | None,
    n_samples: int,
    n_runs: int,
    seed: int = 0,
    *,
    secondary_accession: str | None = None,
    first_public: dt.date = dt.date(2024, 3, 1),
    library_strategy: str = "WGS",
    library_source: str = "METAGENOMIC",
    single_fraction: float = 0.1,
    portal: str = "metagenome",
    private_owner: str | None = None,
) -> GeneratedStudy:
    """Add a study with ``n_samples`` samples and ``n_runs`` runs (spread over the samples).

    Runs are PAIRED (two files ``_1``/``_2``) except about ``single_fraction`` of them (one
    file); ``fastq_ftp``, ``fastq_md5`` and ``fastq_bytes`` always agree.

    :param accession: the study's primary accession; None allocates ``PRJEB9…`` (generated
        accessions start at 90,000,000: pick hand-made ones below that range).
    :param private_owner: make the study private to this Webin account.
    """
    if n_samples < 1 and n_runs > 0:
        raise ValueError("runs need at least one sample")
    rng = random.Random(seed)
    if accession is None:
        accession = f"PRJEB{fake.next_serials('PRJEB', 1)[0]}"
    secondary = secondary_accession or f"ERP{fake.next_serials('ERP', 1)[0]}"
    day = first_public.isoformat()
    fake.add_study(
        {
            "study_accession": accession,
            "secondary_study_accession": secondary,
            "study_title": f"Generated metagenome study {accession}",
            "study_description": f"{n_samples} samples, {n_runs} runs (generated by the fake ENA)",
            "center_name": "SYNTHETIC",
            "first_public": day,
            "last_updated": day,
            "tax_id": "256318",
            "scientific_name": "metagenome",
        },
        portal=portal,
    )
    sample_serials = fake.next_serials("SAMEA", n_samples)
    samples = [f"SAMEA{serial}" for serial in sample_serials]
    ers = [f"ERS{serial}" for serial in fake.next_serials("ERS", n_samples)]
    sample_records = [
        {
            "sample_accession": sample,
            "secondary_sample_accession": secondary_sample,
            "sample_title": f"Generated sample {index + 1} of {accession}",
            "collection_date": day,
            "lat": f"{rng.uniform(-80, 80):.4f}",
            "lon": f"{rng.uniform(-179, 179):.4f}",
            "country": "Atlantic Ocean",
            "tax_id": "256318",
            "scientific_name": "metagenome",
            "study_accession": accession,
            "secondary_study_accession": secondary,
            "first_public": day,
        }
        for index, (sample, secondary_sample) in enumerate(zip(samples, ers, strict=True))
    ]
    fake.add_records(Kind.SAMPLE, sample_records, portal)
    run_serials = fake.next_serials("ERR", n_runs)
    runs = [f"ERR{serial}" for serial in run_serials]
    run_records = []
    for index, run in enumerate(runs):
        layout = "SINGLE" if rng.random() < single_fraction else "PAIRED"
        sample_index = index % n_samples
        run_records.append(
            {
                "run_accession": run,
                "experiment_accession": f"ERX{run_serials[index]}",
                "sample_accession": samples[sample_index],
                "secondary_sample_accession": ers[sample_index],
                "study_accession": accession,
                "secondary_study_accession": secondary,
                "library_strategy": library_strategy,
                "library_source": library_source,
                "library_layout": layout,
                "library_selection": "RANDOM" if library_strategy != "AMPLICON" else "PCR",
                "instrument_platform": "ILLUMINA",
                "instrument_model": "Illumina NovaSeq 6000",
                "read_count": str(rng.randint(1_000_000, 90_000_000)),
                "base_count": str(rng.randint(150_000_000, 27_000_000_000)),
                "first_public": day,
                "last_updated": day,
                "tax_id": "256318",
                "scientific_name": "metagenome",
                "sample_title": f"Generated sample {sample_index + 1} of {accession}",
                "collection_date": day,
                **fastq_fields(run, layout, rng),
            }
        )
    fake.add_records(Kind.RUN, run_records, portal)
    if private_owner is not None:
        fake.set_private(accession, private_owner)
    return GeneratedStudy(accession, secondary, samples, runs)


def generate_studies(
    fake: FakeENA,
    n: int,
    first_public_from: dt.date = dt.date(2024, 1, 1),
    days: int = 30,
    samples_per_study: int = 1,
    runs_per_study: int = 1,
    seed: int = 0,
    library_strategies: Sequence[str] = ("WGS", "AMPLICON"),
) -> list[str]:
    """Add ``n`` small studies made public over ``days`` days from ``first_public_from`` (for
    sensor benchmarks); returns their primary accessions (``PRJEB9…``)."""
    rng = random.Random(seed)
    accessions = []
    for index, serial in enumerate(fake.next_serials("PRJEB", n)):
        accession = f"PRJEB{serial}"
        generate_study(
            fake,
            accession,
            samples_per_study,
            runs_per_study,
            seed=seed + index,
            first_public=first_public_from + dt.timedelta(days=rng.randrange(max(days, 1))),
            library_strategy=library_strategies[index % len(library_strategies)],
            single_fraction=0.0,
        )
        accessions.append(accession)
    return accessions
