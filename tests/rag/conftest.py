from tests.factories import make_document as ingest  # noqa: F401  (the older name, still imported)
