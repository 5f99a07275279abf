from django.apps import AppConfig


class ENAConfig(AppConfig):
    """Mirrors of ENA's own objects (studies, samples) as fetched from its APIs."""

    name = "emg_django.ena"
    label = "ena"
    verbose_name = "ENA mirror"
