from django.apps import AppConfig


class AnalysesConfig(AppConfig):
    """MGnify's own objects: biomes, studies (MGYS), samples, runs, assemblies, analyses (MGYA)."""

    name = "emg_django.analyses"
    label = "analyses"
    verbose_name = "MGnify analyses"

    def ready(self) -> None:
        # Keep MGnify objects' privacy in step with their ENA study when a curator edits it.
        from emg_django.analyses import visibility  # noqa: F401
