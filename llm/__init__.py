"""Talking to models, for every app: chat providers (offline, OpenAI-compatible, Anthropic)
by name in `providers.py`, the client with retries, budgets and accounting in `client.py`,
record/replay, embeddings (`embeddings/`), and the tenant's log of calls (`LLMCall`)."""
