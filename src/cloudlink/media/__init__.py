"""The Python face of the media engine: pipelines, sources and sinks."""
