"""Anthropic's Messages API through the official SDK."""

from __future__ import annotations

import anthropic

from llm.base import ChatRequest
from llm.http_errors import translate
from llm.http_pool import shared_http_client


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, *, model: str, api_key: str, base_url: str = "", timeout_s: float = 60.0):
        self.model = model
        self._client = anthropic.Anthropic(
            api_key=api_key or "not-set",
            base_url=base_url or None,
            timeout=timeout_s,
            max_retries=0,
            http_client=shared_http_client(anthropic),
        )

    def complete(self, request: ChatRequest) -> tuple[str, int, int]:
        try:
            response = self._client.messages.create(
                model=self.model,
                system=request.system,
                messages=[{"role": m.role, "content": m.content} for m in request.messages],
                max_tokens=request.max_tokens,
            )
        except anthropic.AnthropicError as error:
            raise translate(anthropic, error, provider=self.name) from error
        text = "".join(block.text for block in response.content if getattr(block, "type", "") == "text")
        return text, response.usage.input_tokens, response.usage.output_tokens
